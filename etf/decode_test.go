package etf

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Helpers to write encodings by hand: enc concatenates its parts, which
// are bytes (byte or int), []byte, string, u16, u32 or u64.
type (
	u16 uint16
	u32 uint32
	u64 uint64
)

func enc(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case byte:
			b = append(b, p)
		case int:
			b = append(b, byte(p))
		case []byte:
			b = append(b, p...)
		case string:
			b = append(b, p...)
		case u16:
			b = binary.BigEndian.AppendUint16(b, uint16(p))
		case u32:
			b = binary.BigEndian.AppendUint32(b, uint32(p))
		case u64:
			b = binary.BigEndian.AppendUint64(b, uint64(p))
		default:
			panic(p)
		}
	}
	return b
}

// term encodes a whole term: the version byte, then parts.
func term(parts ...any) []byte { return enc(append([]any{tagVersion}, parts...)...) }

func atomExt(s string) []byte { return enc(tagAtom, u16(len(s)), s) }

var node = atomExt("mongooseim@localhost")

func mustBig(s string) *big.Int {
	x, ok := new(big.Int).SetString(s, 0)
	if !ok {
		panic(s)
	}
	return x
}

func oldFloat(s string) []byte {
	b := make([]byte, 31)
	copy(b, s)
	return enc(tagFloat, b)
}

// newFunExt is fun_local of the corpus: fun() -> ok end in gen_corpus.
var newFunExt = enc(tagNewFun, u32(4+1+16+4+4+len(atomExt("m"))+2+2+len(pidExt())+2),
	0, "0123456789abcdef", u32(7), u32(1), atomExt("m"),
	tagSmallInt, 3, tagSmallInt, 99, pidExt(), tagSmallInt, 42)

func pidExt() []byte { return enc(tagNewPid, node, u32(607), u32(0), u32(3)) }

var oldFunExt = enc(tagFun, u32(1), pidExt(), atomExt("m"), tagSmallInt, 5, tagInt, u32(123456), tagNil)

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want Term
	}{
		{"SMALL_INTEGER_EXT", term(tagSmallInt, 255), int64(255)},
		{"INTEGER_EXT", term(tagInt, u32(0xFFFFFFFF)), int64(-1)},
		{"INTEGER_EXT max", term(tagInt, u32(math.MaxInt32)), int64(math.MaxInt32)},
		{"SMALL_BIG_EXT max int64", term(tagSmallBig, 8, 0, u64(0xFFFFFFFFFFFFFF7F)), int64(math.MaxInt64)},
		{"SMALL_BIG_EXT min int64", term(tagSmallBig, 8, 1, u64(0x80)), int64(math.MinInt64)},
		{"SMALL_BIG_EXT 2^63", term(tagSmallBig, 8, 0, u64(0x80)), mustBig("9223372036854775808")},
		{"SMALL_BIG_EXT -2^64", term(tagSmallBig, 9, 1, u64(0), 1), mustBig("-18446744073709551616")},
		{"SMALL_BIG_EXT empty", term(tagSmallBig, 0, 0), int64(0)},
		{"SMALL_BIG_EXT -0", term(tagSmallBig, 2, 1, 0, 0), int64(0)},
		{"SMALL_BIG_EXT sign 2", term(tagSmallBig, 1, 2, 5), int64(-5)},
		{"SMALL_BIG_EXT leading zeros", term(tagSmallBig, 12, 1, 7, make([]byte, 11)), int64(-7)},
		{"LARGE_BIG_EXT", term(tagLargeBig, u32(1), 0, 200), int64(200)},
		{"NEW_FLOAT_EXT", term(tagNewFloat, u64(math.Float64bits(1.5))), 1.5},
		{"NEW_FLOAT_EXT -0", term(tagNewFloat, u64(1<<63)), math.Copysign(0, -1)},
		{"FLOAT_EXT", term(oldFloat("1.50000000000000000000e+00")), 1.5},
		{"FLOAT_EXT negative", term(oldFloat("-3.00000000000000006228e-10")), -3.0e-10},
		{"ATOM_EXT", term(atomExt("ok")), Atom("ok")},
		{"ATOM_EXT latin-1", term(tagAtom, u16(2), "\xe9t"), Atom("ét")},
		{"ATOM_EXT empty", term(tagAtom, u16(0)), Atom("")},
		{"SMALL_ATOM_EXT", term(tagSmallAtom, 4, "caf\xe9"), Atom("café")},
		{"ATOM_UTF8_EXT", term(tagAtomUTF8, u16(3), "Ϩa"), Atom("Ϩa")},
		{"SMALL_ATOM_UTF8_EXT", term(tagSmallAtomUTF8, 4, "true"), Atom("true")},
		{"NIL_EXT", term(tagNil), List{}},
		{"STRING_EXT", term(tagString, u16(3), "a\x00\xff"), String("a\x00\xff")},
		{"STRING_EXT empty", term(tagString, u16(0)), List{}},
		{"LIST_EXT", term(tagList, u32(2), tagSmallInt, 1, atomExt("a"), tagNil), List{int64(1), Atom("a")}},
		{"LIST_EXT improper", term(tagList, u32(1), tagSmallInt, 1, atomExt("b")),
			ImproperList{Elems: []Term{int64(1)}, Tail: Atom("b")}},
		{"LIST_EXT list tail", term(tagList, u32(1), tagSmallInt, 1, tagList, u32(1), tagSmallInt, 2, tagNil),
			List{int64(1), int64(2)}},
		{"LIST_EXT improper list tail", term(tagList, u32(1), tagSmallInt, 1, tagList, u32(1), tagSmallInt, 2, tagSmallInt, 3),
			ImproperList{Elems: []Term{int64(1), int64(2)}, Tail: int64(3)}},
		{"LIST_EXT string tail", term(tagList, u32(1), tagSmallInt, 1, tagString, u16(2), "ab"),
			List{int64(1), int64('a'), int64('b')}},
		{"LIST_EXT empty string tail", term(tagList, u32(1), tagSmallInt, 1, tagString, u16(0)), List{int64(1)}},
		{"LIST_EXT empty", term(tagList, u32(0), tagNil), List{}},
		{"LIST_EXT empty improper", term(tagList, u32(0), atomExt("x")), Atom("x")},
		{"SMALL_TUPLE_EXT", term(tagSmallTuple, 2, atomExt("ok"), tagSmallInt, 0), Tuple{Atom("ok"), int64(0)}},
		{"SMALL_TUPLE_EXT empty", term(tagSmallTuple, 0), Tuple{}},
		{"LARGE_TUPLE_EXT", term(tagLargeTuple, u32(1), tagNil), Tuple{List{}}},
		{"MAP_EXT", term(tagMap, u32(2), tagBinary, u32(1), "k", tagNil, tagList, u32(1), tagNil, tagNil, tagSmallInt, 1),
			Map{{Binary("k"), List{}}, {List{List{}}, int64(1)}}},
		{"MAP_EXT empty", term(tagMap, u32(0)), Map{}},
		{"BINARY_EXT", term(tagBinary, u32(3), "abc"), Binary("abc")},
		{"BINARY_EXT empty", term(tagBinary, u32(0)), Binary{}},
		{"BIT_BINARY_EXT", term(tagBitBinary, u32(2), 3, 1, 0xFF), BitBinary{Bytes: []byte{1, 0xE0}, Bits: 3}},
		{"BIT_BINARY_EXT 8 bits", term(tagBitBinary, u32(1), 8, 7), Binary{7}},
		{"BIT_BINARY_EXT empty", term(tagBitBinary, u32(0), 0), Binary{}},
		{"PID_EXT", term(tagPid, node, u32(1), u32(2), 3), Pid{Node: "mongooseim@localhost", ID: 1, Serial: 2, Creation: 3}},
		{"NEW_PID_EXT", term(pidExt()), Pid{Node: "mongooseim@localhost", ID: 607, Creation: 3}},
		{"NEW_PID_EXT utf8 node", term(tagNewPid, tagSmallAtomUTF8, 3, "n@h", u32(1), u32(2), u32(3)),
			Pid{Node: "n@h", ID: 1, Serial: 2, Creation: 3}},
		{"PORT_EXT", term(tagPort, node, u32(5), 2), Port{Node: "mongooseim@localhost", ID: 5, Creation: 2}},
		{"NEW_PORT_EXT", term(tagNewPort, node, u32(5), u32(7)), Port{Node: "mongooseim@localhost", ID: 5, Creation: 7}},
		{"V4_PORT_EXT", term(tagV4Port, node, u64(1<<40), u32(7)), Port{Node: "mongooseim@localhost", ID: 1 << 40, Creation: 7}},
		{"REFERENCE_EXT", term(tagRef, node, u32(9), 1), Ref{Node: "mongooseim@localhost", Creation: 1, IDs: []uint32{9}}},
		{"NEW_REFERENCE_EXT", term(tagNewRef, u16(3), node, 2, u32(1), u32(2), u32(3)),
			Ref{Node: "mongooseim@localhost", Creation: 2, IDs: []uint32{1, 2, 3}}},
		{"NEWER_REFERENCE_EXT", term(tagNewerRef, u16(2), node, u32(0x10000), u32(1), u32(2)),
			Ref{Node: "mongooseim@localhost", Creation: 0x10000, IDs: []uint32{1, 2}}},
		{"NEW_FUN_EXT", term(newFunExt), Fun{Module: "m", Raw: newFunExt}},
		{"FUN_EXT", term(oldFunExt), Fun{Module: "m", Raw: oldFunExt}},
		{"EXPORT_EXT", term(tagExport, atomExt("lists"), atomExt("map"), tagSmallInt, 2),
			Export{Module: "lists", Function: "map", Arity: 2}},
		{"compressed", compress(enc(tagList, u32(2), atomExt("a"), atomExt("b"), tagNil)), List{Atom("a"), Atom("b")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
			if !Equal(got, tt.want) || !Equal(got, got) {
				t.Errorf("not Equal")
			}
			// Every prefix is an error.
			for i := range tt.in {
				if _, err := Decode(tt.in[:i]); err == nil {
					t.Errorf("prefix of %d bytes decodes", i)
				}
			}
		})
	}
}

// compress returns the compressed form of the encoding b (without its
// version byte).
func compress(b []byte) []byte {
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(b)
	w.Close()
	return term(tagCompressed, u32(len(b)), z.Bytes())
}

func TestDecodeErrors(t *testing.T) {
	deep := func(n int) []byte {
		return term(bytes.Repeat(enc(tagList, u32(1)), n), tagNil, bytes.Repeat([]byte{tagNil}, n))
	}
	funSized := func(size int) []byte {
		b := bytes.Clone(newFunExt)
		binary.BigEndian.PutUint32(b[1:], uint32(size))
		return term(b)
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, errTruncated},
		{"version only", term(), errTruncated},
		{"bad version", enc(130, tagNil), errMalformed},
		{"trailing bytes", term(tagSmallInt, 1, 0), errMalformed},
		{"trailing term", term(tagNil, tagNil), errMalformed},
		{"unknown tag", term(1), errMalformed},
		{"ATOM_CACHE_REF", term(tagAtomCacheRef, 0), errMalformed},
		{"DIST_HEADER", term(tagDistHeader, 0), errMalformed},
		{"DIST_FRAG_HEADER", term(tagDistFragHeader, 0), errMalformed},
		{"LOCAL_EXT", term(tagLocal, tagNil), errMalformed},
		{"nested compressed", term(tagList, u32(1), tagCompressed, u32(1), tagNil), errMalformed},
		{"NaN", term(tagNewFloat, u64(math.Float64bits(math.NaN()))), errMalformed},
		{"Inf", term(tagNewFloat, u64(math.Float64bits(math.Inf(-1)))), errMalformed},
		{"FLOAT_EXT garbage", term(oldFloat("1.5x")), errMalformed},
		{"FLOAT_EXT inf", term(oldFloat("inf")), errMalformed},
		{"atom not UTF-8", term(tagSmallAtomUTF8, 1, 0xFF), errMalformed},
		{"atom too long", term(tagAtom, u16(256), strings.Repeat("a", 256)), errMalformed},
		{"UTF-8 atom too long", term(tagAtomUTF8, u16(512), strings.Repeat("é", 256)), errMalformed},
		{"BIT_BINARY_EXT 0 bits", term(tagBitBinary, u32(1), 0, 1), errMalformed},
		{"BIT_BINARY_EXT 9 bits", term(tagBitBinary, u32(1), 9, 1), errMalformed},
		{"BIT_BINARY_EXT empty with bits", term(tagBitBinary, u32(0), 3), errMalformed},
		{"pid node not atom", term(tagNewPid, tagNil, u32(1), u32(2), u32(3)), errMalformed},
		{"port node not atom", term(tagNewPort, tagSmallInt, 1, u32(1), u32(3)), errMalformed},
		{"ref node not atom", term(tagNewerRef, u16(1), tagNil, u32(1), u32(3)), errMalformed},
		{"export arity", term(tagExport, atomExt("m"), atomExt("f"), tagInt, u32(2)), errMalformed},
		{"export module", term(tagExport, tagNil, atomExt("f"), tagSmallInt, 2), errMalformed},
		{"NEW_FUN_EXT size too small", funSized(10), errMalformed},
		{"NEW_FUN_EXT size short", funSized(len(newFunExt) - 2), errMalformed},
		{"NEW_FUN_EXT size long", term(funSized(len(newFunExt))[1:], 0), errMalformed},
		{"NEW_FUN_EXT size huge", funSized(math.MaxUint32), errTruncated},
		{"NEW_FUN_EXT pid", term(tagNewFun, u32(4+25+4+4+1), 0, "0123456789abcdef", u32(7), u32(0),
			atomExt("m"), tagSmallInt, 3, tagSmallInt, 99, tagNil), errMalformed},
		{"FUN_EXT pid", term(tagFun, u32(0), tagNil, atomExt("m"), tagSmallInt, 5, tagSmallInt, 6), errMalformed},
		{"FUN_EXT index", term(tagFun, u32(0), pidExt(), atomExt("m"), tagNil, tagSmallInt, 6), errMalformed},
		// Length fields that the input cannot back.
		{"LIST_EXT huge", term(tagList, u32(math.MaxUint32), tagNil, tagNil, tagNil), errTruncated},
		{"LARGE_TUPLE_EXT huge", term(tagLargeTuple, u32(math.MaxUint32), tagNil), errTruncated},
		{"MAP_EXT huge", term(tagMap, u32(math.MaxUint32), tagNil, tagNil), errTruncated},
		{"MAP_EXT odd", term(tagMap, u32(2), tagNil, tagNil, tagNil), errTruncated},
		{"BINARY_EXT huge", term(tagBinary, u32(math.MaxUint32), "abc"), errTruncated},
		{"BIT_BINARY_EXT huge", term(tagBitBinary, u32(math.MaxUint32), 3, "abc"), errTruncated},
		{"STRING_EXT huge", term(tagString, u16(math.MaxUint16), "abc"), errTruncated},
		{"LARGE_BIG_EXT huge", term(tagLargeBig, u32(math.MaxUint32), 0, "abc"), errTruncated},
		{"NEWER_REFERENCE_EXT huge", term(tagNewerRef, u16(math.MaxUint16), node, u32(1), u32(1)), errTruncated},
		{"FUN_EXT huge", term(tagFun, u32(math.MaxUint32), pidExt(), atomExt("m"), tagSmallInt, 5, tagSmallInt, 6, tagNil), errTruncated},
		{"tuple of lists", term(tagSmallTuple, 3, tagList, u32(3), tagNil, tagNil, tagNil, tagNil), errTruncated},
		{"compressed too large", term(tagCompressed, u32(math.MaxUint32), 0x78, 0x9c), errTooLarge},
		{"compressed short size", term(tagCompressed, 0), errTruncated},
		{"compressed not zlib", term(tagCompressed, u32(1), "nonsense"), errMalformed},
		{"compressed size larger", func() []byte {
			b := compress(enc(tagNil))
			binary.BigEndian.PutUint32(b[2:], 2)
			return b
		}(), errMalformed},
		{"compressed size smaller", func() []byte {
			b := compress(enc(tagList, u32(0), tagNil))
			binary.BigEndian.PutUint32(b[2:], 2)
			return b
		}(), errMalformed},
		{"compressed trailing", append(compress(enc(tagNil)), 0), errMalformed},
		{"compressed truncated", compress(enc(tagNil))[:8], errTruncated},
		{"compressed bad checksum", func() []byte {
			b := compress(enc(tagNil))
			b[len(b)-1]++
			return b
		}(), errMalformed},
		{"compressed bad term", compress(enc(tagSmallInt)), errTruncated},
		{"compressed trailing term", compress(enc(tagNil, tagNil)), errMalformed},
		{"too deep", deep(defaultMaxDepth + 1), errTooDeep},
		{"too deep tuple", term(bytes.Repeat([]byte{tagSmallTuple, 1}, defaultMaxDepth+1), tagNil), errTooDeep},
		{"too deep map", term(bytes.Repeat(enc(tagMap, u32(1), tagNil), defaultMaxDepth+1), tagNil), errTooDeep},
		{"too deep fun", term(bytes.Repeat(enc(tagFun, u32(1), pidExt(), atomExt("m"), tagSmallInt, 5, tagSmallInt, 6), defaultMaxDepth+1), tagNil), errTooDeep},
		{"too deep improper", term(bytes.Repeat(enc(tagList, u32(1)), defaultMaxDepth+1), tagNil,
			bytes.Repeat([]byte{tagSmallInt, 1}, defaultMaxDepth+1)), errTooDeep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %#v, %v; want %v", got, err, tt.want)
			}
			if got != nil {
				t.Errorf("got %#v with the error", got)
			}
			if !strings.HasPrefix(err.Error(), "etf: ") {
				t.Errorf("error %q", err)
			}
		})
	}
}

func TestDecodeLimits(t *testing.T) {
	deep := func(n int) []byte {
		return term(bytes.Repeat(enc(tagList, u32(1)), n), tagNil, bytes.Repeat([]byte{tagNil}, n))
	}
	if _, err := Decode(deep(defaultMaxDepth)); err != nil {
		t.Errorf("depth %d: %v", defaultMaxDepth, err)
	}
	if _, err := DecodeLimits(deep(5), Limits{MaxDepth: 5}); err != nil {
		t.Errorf("depth 5, limit 5: %v", err)
	}
	if _, err := DecodeLimits(deep(6), Limits{MaxDepth: 5}); !errors.Is(err, errTooDeep) {
		t.Errorf("depth 6, limit 5: %v", err)
	}
	if _, err := DecodeLimits(deep(5000), Limits{MaxDepth: 5000}); err != nil {
		t.Errorf("depth 5000, limit 5000: %v", err)
	}
	// Siblings do not add up.
	wide := term(tagSmallTuple, 2, deep(defaultMaxDepth - 1)[1:], deep(defaultMaxDepth - 1)[1:])
	if _, err := Decode(wide); err != nil {
		t.Errorf("two lists of depth %d in a tuple: %v", defaultMaxDepth-1, err)
	}

	body := enc(tagBinary, u32(1000), make([]byte, 1000))
	if _, err := DecodeLimits(compress(body), Limits{MaxUncompressed: len(body)}); err != nil {
		t.Errorf("compressed at the limit: %v", err)
	}
	if _, err := DecodeLimits(compress(body), Limits{MaxUncompressed: len(body) - 1}); !errors.Is(err, errTooLarge) {
		t.Errorf("compressed over the limit: %v", err)
	}
}

// A list whose tails are lists is one list, however long: decoding it
// must not recurse.
func TestDecodeLongTails(t *testing.T) {
	const n = 100000
	in := term(bytes.Repeat(enc(tagList, u32(1), tagSmallInt, 7), n), tagNil)
	got, err := Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := got.(List); !ok || len(l) != n || l[n-1] != int64(7) {
		t.Errorf("got %s", FormatLimit(got, 100))
	}
	in = term(bytes.Repeat(enc(tagList, u32(1), tagNil), n), tagSmallInt, 1)
	got, err = Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := got.(ImproperList); !ok || len(l.Elems) != n || l.Tail != int64(1) {
		t.Errorf("got %s", FormatLimit(got, 100))
	}
}

// allocs returns the bytes allocated by f.
func allocs(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// claiming returns the encoding of k nested containers, each claiming as
// many elements as bytes follow its header, less slack; NIL_EXT pads the
// input to size bytes.
func claiming(tag byte, k, size, slack int, per uint32) []byte {
	b := []byte{tagVersion}
	for i := range k {
		rest := size - (1 + (i+1)*5)
		b = append(b, tag)
		b = binary.BigEndian.AppendUint32(b, uint32(rest-slack)/per)
	}
	return append(b, bytes.Repeat([]byte{tagNil}, size-len(b))...)
}

// Lengths that the input cannot back must fail fast, without allocating
// for them, even when containers nest and each claims all that is left.
func TestDecodeHostileLengths(t *testing.T) {
	const size = 1 << 14
	inflated := term(tagCompressed, u32(60<<20), zlibBytes(enc(tagNil)))
	tests := []struct {
		name string
		in   []byte
	}{
		{"LIST_EXT", term(tagList, u32(math.MaxUint32), 1, 2, 3)},
		{"LARGE_TUPLE_EXT", term(tagLargeTuple, u32(math.MaxUint32), 1, 2, 3)},
		{"MAP_EXT", term(tagMap, u32(math.MaxUint32), 1, 2, 3)},
		{"BINARY_EXT", term(tagBinary, u32(math.MaxUint32), 1, 2, 3)},
		{"LARGE_BIG_EXT", term(tagLargeBig, u32(math.MaxUint32), 1, 2, 3)},
		{"compressed", inflated},
		{"nested lists", claiming(tagList, 900, size, 1, 1)},
		{"nested tuples", claiming(tagLargeTuple, 900, size, 0, 1)},
		{"nested maps", claiming(tagMap, 900, size, 0, 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			start := time.Now()
			n := allocs(func() { _, err = Decode(tt.in) })
			if err == nil {
				t.Fatal("no error")
			}
			if limit := uint64(64*len(tt.in) + 64<<10); n > limit {
				t.Errorf("allocated %d bytes for %d bytes of input: %v", n, len(tt.in), err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func zlibBytes(b []byte) []byte {
	return compress(b)[6:]
}

// Every prefix of every corpus file is an error, never a panic.
func TestDecodeTruncated(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.etf"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		step := 1
		if testing.Short() && len(b) > 1000 {
			step = len(b) / 1000
		}
		for i := 0; i < len(b); i += step {
			_, err := Decode(b[:i])
			if !errors.Is(err, errTruncated) {
				t.Errorf("%s: prefix of %d bytes: %v", filepath.Base(f), i, err)
				break
			}
		}
	}
}

// TestDecodeElideDeep: with ElideDeep, what lies deeper than MaxDepth is
// Elided{}, its siblings and everything around it are kept, and bad input
// under the limit is still an error.
func TestDecodeElideDeep(t *testing.T) {
	l := Limits{MaxDepth: 3, ElideDeep: true}
	deepList := func(n int) []byte { // [[[...[]...]]], n lists
		return append(bytes.Repeat(enc(tagList, u32(1)), n), append([]byte{tagNil}, bytes.Repeat([]byte{tagNil}, n)...)...)
	}
	for _, tt := range []struct {
		name string
		in   []byte
		want Term
	}{
		{"within the limit", term(deepList(3)), List{List{List{List{}}}}},
		{"list", term(tagSmallTuple, 3, atomExt("a"), deepList(100_000), atomExt("b")),
			Tuple{Atom("a"), List{List{Elided{}}}, Atom("b")}},
		{"tuple", term(tagSmallTuple, 2, bytes.Repeat([]byte{tagSmallTuple, 1}, 50_000), tagNil, atomExt("z")),
			Tuple{Tuple{Tuple{Elided{}}}, Atom("z")}},
		{"map", term(tagList, u32(2), bytes.Repeat(enc(tagMap, u32(1), atomExt("k")), 10), tagNil, tagSmallInt, 7, tagNil),
			List{Map{{Atom("k"), Map{{Atom("k"), Elided{}}}}}, int64(7)}},
		{"funs and binaries inside", term(tagList, u32(1), tagList, u32(1), tagList, u32(1),
			tagList, u32(3), newFunExt, oldFunExt, tagBinary, u32(3), "xyz", tagNil, tagNil, tagNil, tagNil),
			List{List{List{Elided{}}}}},
		{"compressed", compress(enc(tagSmallTuple, 2, deepList(10_000), tagSmallInt, 1)),
			Tuple{List{List{Elided{}}}, int64(1)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeLimits(tt.in, l)
			if err != nil {
				t.Fatal(err)
			}
			if !Equal(got, tt.want) {
				t.Errorf("got %s, want %s", Format(got), Format(tt.want))
			}
		})
	}
	for name, in := range map[string][]byte{
		"truncated below the limit":   term(tagList, u32(1), tagList, u32(1), tagList, u32(1), tagList, u32(5), tagNil),
		"length beyond the input":     term(tagList, u32(1), tagList, u32(1), tagList, u32(1), tagLargeTuple, u32(1<<30), tagNil),
		"bad tag below the limit":     term(tagList, u32(1), tagList, u32(1), tagList, u32(1), tagList, u32(1), 200, tagNil, tagNil, tagNil, tagNil),
		"trailing bytes after skip":   append(term(tagList, u32(1), tagList, u32(1), tagList, u32(1), deepList(5), tagNil, tagNil, tagNil), 0),
		"fun size below its own size": term(tagList, u32(1), tagList, u32(1), tagList, u32(1), tagNewFun, u32(2), tagNil, tagNil, tagNil),
	} {
		if got, err := DecodeLimits(in, l); err == nil {
			t.Errorf("%s: decoded %s", name, Format(got))
		}
	}
}

// Atoms are kept for reuse up to maxKnownAtoms; a node that sends ever
// new atoms still gets each one right, and the kept set stops growing.
func TestAtomsBeyondTheKeptSet(t *testing.T) {
	const n = maxKnownAtoms + 100
	b := []byte{131, 108}
	b = binary.BigEndian.AppendUint32(b, n)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("many_atoms_%d", i)
		b = append(b, 119, byte(len(name)))
		b = append(b, name...)
	}
	b = append(b, 106)
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	l, ok := got.(List)
	if !ok || len(l) != n {
		t.Fatalf("got %T of %d, want a list of %d", got, len(l), n)
	}
	for _, i := range []int{0, maxKnownAtoms - 1, n - 1} {
		if want := Atom(fmt.Sprintf("many_atoms_%d", i)); l[i] != want {
			t.Errorf("element %d is %v, want %v", i, l[i], want)
		}
	}
	knownAtoms.RLock()
	kept := len(knownAtoms.m)
	knownAtoms.RUnlock()
	if kept > maxKnownAtoms {
		t.Errorf("%d atoms kept, limit %d", kept, maxKnownAtoms)
	}
}
