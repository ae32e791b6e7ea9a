package etf

import (
	"math"
	"math/big"
	"strings"
	"testing"
	"unicode/utf8"
)

// Most of Format is checked against Erlang by the corpus; these are the
// cases Erlang cannot print the same way, or that it cannot make.
func TestFormat(t *testing.T) {
	huge := new(big.Int).Lsh(big.NewInt(0xAB), hexBits)
	tests := []struct {
		in   Term
		want string
	}{
		{Pid{Node: "mongooseim@localhost", ID: 607, Serial: 1}, "<0.607.1>"},
		{Port{Node: "mongooseim@localhost", ID: 1 << 40}, "#Port<0.1099511627776>"},
		{Ref{Node: "n", IDs: []uint32{3, 2, 1}}, "#Ref<0.1.2.3>"},
		{Ref{Node: "n"}, "#Ref<0>"},
		{Fun{Module: "m", Raw: newFunExt}, "#Fun<m.3.99>"},
		{Fun{Module: "m", Raw: oldFunExt}, "#Fun<m.5.123456>"},
		{Fun{Module: "m"}, "#Fun<m>"},
		{Fun{Module: "M", Raw: []byte{tagNewFun, 1, 2}}, "#Fun<'M'>"},
		{Export{Module: "Elixir.Enum", Function: "map", Arity: 2}, "fun 'Elixir.Enum':map/2"},
		{BitBinary{Bytes: []byte{1, 0xE0}, Bits: 3}, "<<1,7:3>>"},
		{BitBinary{Bytes: []byte{1, 2}, Bits: 8}, "<<1,2>>"},
		{BitBinary{}, "<<>>"},
		{ImproperList{Elems: []Term{int64(1)}, Tail: List{int64(2)}}, "[1,2]"},
		{ImproperList{Elems: []Term{}, Tail: Atom("a")}, "a"},
		{String(""), "[]"},
		{List{int64(97), big.NewInt(98)}, "[97,98]"},
		{List{int64(97), int64(256)}, "[97,256]"},
		{huge, "16#AB" + strings.Repeat("0", hexBits/4)},
		{new(big.Int).Neg(huge), "-16#AB" + strings.Repeat("0", hexBits/4)},
		{Atom("a\x00"), `'a\000'`},
		{Atom("\xff"), "'\uFFFD'"},
		{nil, "#Go<<nil>>"},
		{7, "#Go<int>"},
		{(*big.Int)(nil), "#Go<*big.Int(nil)>"},
		{math.Inf(1), "+Inf"},
	}
	for _, tt := range tests {
		if got := Format(tt.in); got != tt.want {
			if len(got) > 100 {
				got = got[:100]
			}
			t.Errorf("Format(%#v) = %s, want %.100s", tt.in, got, tt.want)
		}
	}
}

func TestFormatLimit(t *testing.T) {
	long := make(List, 1000)
	for i := range long {
		long[i] = Binary("héllo wörld")
	}
	full := Format(long)
	for _, max := range []int{1, 3, 4, 10, 17, 18, 19, 100, len(full) - 1} {
		got := FormatLimit(long, max)
		if len(got) > max || !utf8.ValidString(got) {
			t.Errorf("FormatLimit(%d) = %q", max, got)
		}
		if max > 3 && (!strings.HasSuffix(got, "...") || !strings.HasPrefix(full, strings.TrimSuffix(got, "..."))) {
			t.Errorf("FormatLimit(%d) = %q", max, got)
		}
	}
	for _, max := range []int{0, -1, len(full)} {
		if got := FormatLimit(long, max); got != full {
			t.Errorf("FormatLimit(%d) cut", max)
		}
	}
}

// FormatLimit does not print what it will cut.
func TestFormatLimitWork(t *testing.T) {
	big := make(Tuple, 1<<20)
	for i := range big {
		big[i] = Binary("abc")
	}
	var n int
	a := allocs(func() { n = len(FormatLimit(Tuple{big, big}, 100)) })
	if n != 100 || a > 64<<10 {
		t.Errorf("FormatLimit printed %d bytes, allocated %d", n, a)
	}
}

// Terms built by hand may nest deeper than Decode allows.
func TestFormatDeep(t *testing.T) {
	var deep Term = List{}
	for range maxFormatDepth + 10 {
		deep = List{deep}
	}
	got := Format(deep)
	if !strings.Contains(got, "[...]") || len(got) > 3*maxFormatDepth {
		t.Errorf("Format of deep list: %.50s... (%d bytes)", got, len(got))
	}
}
