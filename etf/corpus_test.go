package etf

import (
	"flag"
	"math"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "regenerate testdata/corpus with Erlang")

const corpusDir = "testdata/corpus"

// checkCorpus decodes every .etf file of dir and, where there is one,
// compares Format with the .txt that Erlang printed. It returns the
// decoded terms by name.
func checkCorpus(t *testing.T, dir string) map[string]Term {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.etf"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no corpus in %s", dir)
	}
	terms := make(map[string]Term)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".etf")
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		term, err := Decode(b)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		terms[name] = term
		want, err := os.ReadFile(strings.TrimSuffix(f, ".etf") + ".txt")
		if os.IsNotExist(err) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		if got, want := Format(otp25Order(term)), strings.TrimSuffix(string(want), "\n"); got != want {
			t.Errorf("%s: Format\n got %s\nwant %s", name, got, want)
		}
	}
	return terms
}

// otp25Order returns t with its maps of more than 32 pairs reversed: OTP
// 25 prints such maps (hash maps) in the reverse of their wire order.
func otp25Order(t Term) Term {
	switch x := t.(type) {
	case Tuple:
		y := make(Tuple, len(x))
		for i, e := range x {
			y[i] = otp25Order(e)
		}
		return y
	case List:
		y := make(List, len(x))
		for i, e := range x {
			y[i] = otp25Order(e)
		}
		return y
	case ImproperList:
		y := ImproperList{Elems: make([]Term, len(x.Elems)), Tail: otp25Order(x.Tail)}
		for i, e := range x.Elems {
			y.Elems[i] = otp25Order(e)
		}
		return y
	case Map:
		y := make(Map, len(x))
		for i, p := range x {
			y[i] = MapPair{otp25Order(p.Key), otp25Order(p.Value)}
		}
		if len(y) > 32 {
			slices.Reverse(y)
		}
		return y
	}
	return t
}

func TestCorpus(t *testing.T) {
	checkValues(t, checkCorpus(t, corpusDir))
}

// checkValues compares decoded terms with corpusValues.
func checkValues(t *testing.T, terms map[string]Term) {
	t.Helper()
	for name, want := range corpusValues() {
		got, ok := terms[name]
		if !ok {
			t.Errorf("%s: not in corpus", name)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %#v\nwant %#v", name, got, want)
		}
		if !Equal(got, want) {
			t.Errorf("%s: not Equal to %s", name, Format(want))
		}
	}
}

// corpusValues are the Go values expected for part of the corpus.
func corpusValues() map[string]Term {
	bigint := func(s string) *big.Int {
		x, ok := new(big.Int).SetString(s, 0)
		if !ok {
			panic(s)
		}
		return x
	}
	nest := func(n int, f func(Term) Term) Term {
		var t Term = Atom("leaf")
		for range n {
			t = f(t)
		}
		return t
	}
	xs := Atom(strings.Repeat("x", 255))
	return map[string]Term{
		"int_0":            int64(0),
		"int_255":          int64(255),
		"int_256":          int64(256),
		"int_neg1":         int64(-1),
		"int_min32":        int64(math.MinInt32),
		"int_max32":        int64(math.MaxInt32),
		"big_2p31":         int64(1 << 31),
		"big_neg_2p31_1":   int64(-1<<31 - 1),
		"big_max64":        int64(math.MaxInt64),
		"big_2p63":         bigint("9223372036854775808"),
		"big_min64":        int64(math.MinInt64),
		"big_min64_1":      bigint("-9223372036854775809"),
		"big_2p64":         bigint("0x10000000000000000"),
		"big_2p100":        new(big.Int).Lsh(big.NewInt(1), 100),
		"big_neg_2p100":    new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 100)),
		"big_255_bytes":    new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 2040), big.NewInt(1)),
		"big_large":        new(big.Int).Lsh(big.NewInt(1), 2048),
		"float_0":          0.0,
		"float_neg0":       math.Copysign(0, -1),
		"float_neg":        -1.5,
		"float_pi":         math.Pi,
		"float_tiny":       5e-324,
		"float_max":        math.MaxFloat64,
		"float_old":        1.5,
		"floats_old":       List{0.1, -3.0e-10, 6.02214076e23, 0.0},
		"atom_empty":       Atom(""),
		"atom_true":        Atom("true"),
		"atom_latin1":      Atom("héllo"),
		"atom_latin1_v2":   Atom("héllo"),
		"atom_ascii_v2":    Atom("ok"),
		"atom_unicode":     Atom("Ϩa"),
		"atom_255":         xs,
		"atom_255_v2":      xs,
		"atom_255_unicode": Atom(strings.Repeat("Ϩ", 255)),
		"bin_empty":        Binary{},
		"bin_text":         Binary("localhost"),
		"bin_bytes":        Binary{1, 2, 3},
		"bin_utf8":         Binary("héllo wörld"),
		"bin_latin1":       Binary("h\xe9llo"),
		"bits_1":           BitBinary{Bytes: []byte{0x80}, Bits: 1},
		"bits_3":           BitBinary{Bytes: []byte{0x20}, Bits: 3},
		"bits_text":        BitBinary{Bytes: []byte{'a', 'b', 5 << 3}, Bits: 5},
		"bits_7":           BitBinary{Bytes: []byte{255, 254}, Bits: 7},
		"string":           String("hello"),
		"string_latin1":    String("h\xe9llo"),
		"string_bytes":     String("\x00\x01\x02\xc8"),
		"charlist_unicode": List{int64(1000), int64('a')},
		"nil":              List{},
		"list":             List{Atom("a"), int64(1), Binary("b")},
		"list_nested": List{List{}, List{List{}}, String("ab"),
			ImproperList{Elems: []Term{Atom("a")}, Tail: Atom("b")}},
		"improper":             ImproperList{Elems: []Term{int64(1)}, Tail: int64(2)},
		"improper_long":        ImproperList{Elems: []Term{Atom("a"), Atom("b"), Atom("c")}, Tail: Atom("d")},
		"improper_string_tail": List{Atom("a"), int64('b'), int64('c')},
		"tuple_empty":          Tuple{},
		"tuple_1":              Tuple{Atom("a")},
		"tuple_2":              Tuple{Atom("ok"), Binary("d613125a")},
		"map_empty":            Map{},
		"map_atoms":            Map{{Atom("backend"), Atom("mnesia")}, {Atom("iqdisc"), Atom("one_queue")}},
		"map_nested":           Map{{Atom("a"), Map{{Atom("b"), Map{{Atom("c"), List{Map{}}}}}}}},
		"pid_fixed":            Pid{Node: "nonode@nohost", ID: 607},
		"port_fixed":           Port{Node: "nonode@nohost", ID: 5},
		"ref_fixed":            Ref{Node: "nonode@nohost", IDs: []uint32{3, 2, 1}},
		"fun_export":           Export{Module: "lists", Function: "map", Arity: 2},
		"fun_export_quoted":    Export{Module: "erlang", Function: "+", Arity: 2},
		"compressed_small":     Atom("ok"),
		"deep_list":            nest(500, func(t Term) Term { return List{t} }),
		"mongoose_like": List{
			Tuple{Binary("localhost"), Map{
				{Atom("mod_bosh"), Map{{Atom("backend"), Atom("mnesia")}, {Atom("max_wait"), Atom("infinity")}}},
				{Atom("mod_vcard"), Map{{Atom("host"), Tuple{Atom("prefix"), Binary("vjud.")}}}},
			}},
			Tuple{Atom("hosts"), List{Binary("localhost")}},
			Tuple{Tuple{Atom("modules"), Binary("localhost")},
				Tuple{Atom("EXIT"), Tuple{Atom("badarg"), List{Tuple{Atom("ets"), Atom("lookup"), int64(2), List{}}}}}},
			Tuple{Atom("listen"), List{Map{
				{Atom("ip_tuple"), Tuple{int64(127), int64(0), int64(0), int64(1)}},
				{Atom("port"), int64(5222)},
				{Atom("proto"), Atom("tcp")},
			}}},
		},
	}
}

// TestErlangCorpus regenerates the corpus with Erlang, when it is
// installed, and checks it: into a temporary directory, or into
// testdata/corpus with -update.
func TestErlangCorpus(t *testing.T) {
	erl, err1 := exec.LookPath("erl")
	erlc, err2 := exec.LookPath("erlc")
	if err1 != nil || err2 != nil {
		if *update {
			t.Fatal("-update needs erl and erlc on PATH")
		}
		t.Skip("erl or erlc not on PATH")
	}
	tmp := t.TempDir()
	out := filepath.Join(tmp, "corpus")
	if *update {
		out, _ = filepath.Abs(corpusDir)
	}
	if b, err := exec.Command(erlc, "-o", tmp, "testdata/gen_corpus.erl").CombinedOutput(); err != nil {
		t.Fatalf("erlc: %v\n%s", err, b)
	}
	cmd := exec.Command(erl, "-noshell", "-pa", tmp, "-eval", `gen_corpus:main(["`+out+`"])`)
	cmd.Dir = tmp // for a crash dump, if any
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("erl: %v\n%s", err, b)
	}
	checkValues(t, checkCorpus(t, out))
}
