package etf

import (
	"math"
	"math/big"
	"reflect"
	"testing"
)

func TestText(t *testing.T) {
	tests := []struct {
		in   Term
		want string
		ok   bool
	}{
		{Atom("héllo"), "héllo", true},
		{Binary("abc"), "abc", true},
		{Binary("\xff\xfe"), "\xff\xfe", true},
		{Binary{}, "", true},
		{String("abc"), "abc", true},
		{String("h\xe9"), "hé", true},
		{List{}, "", true},
		{List{int64('h'), int64(233), int64(1000), int64(0x1F600)}, "héϨ😀", true},
		{List{int64(-1)}, "", false},
		{List{int64(0xD800)}, "", false},
		{List{int64(0x110000)}, "", false},
		{List{Atom("a")}, "", false},
		{List{String("ab")}, "", false},
		{ImproperList{Elems: []Term{int64('a')}, Tail: int64('b')}, "", false},
		{BitBinary{Bytes: []byte{0x80}, Bits: 1}, "", false},
		{int64(1), "", false},
		{nil, "", false},
	}
	for _, tt := range tests {
		got, ok := Text(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Text(%s) = %q, %v; want %q, %v", Format(tt.in), got, ok, tt.want, tt.ok)
		}
	}
}

func TestInt(t *testing.T) {
	tests := []struct {
		in   Term
		want int64
		ok   bool
	}{
		{int64(-5), -5, true},
		{big.NewInt(7), 7, true},
		{mustBig("9223372036854775808"), 0, false},
		{1.0, 0, false},
		{Atom("1"), 0, false},
		{(*big.Int)(nil), 0, false},
	}
	for _, tt := range tests {
		got, ok := Int(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Int(%#v) = %d, %v", tt.in, got, ok)
		}
	}
}

func TestIsAtom(t *testing.T) {
	if !IsAtom(Atom("ok"), "ok") || IsAtom(Atom("ok"), "error") || IsAtom(Binary("ok"), "ok") || IsAtom(nil, "") {
		t.Error("IsAtom")
	}
}

func TestElems(t *testing.T) {
	if got, ok := Elems(String("ab")); !ok || !reflect.DeepEqual(got, []Term{int64('a'), int64('b')}) {
		t.Errorf("Elems(String) = %#v, %v", got, ok)
	}
	if got, ok := Elems(List{Atom("a")}); !ok || !reflect.DeepEqual(got, []Term{Atom("a")}) {
		t.Errorf("Elems(List) = %#v, %v", got, ok)
	}
	if got, ok := Elems(List{}); !ok || len(got) != 0 {
		t.Errorf("Elems([]) = %#v, %v", got, ok)
	}
	if _, ok := Elems(ImproperList{Elems: []Term{Atom("a")}, Tail: Atom("b")}); ok {
		t.Error("Elems of an improper list")
	}
	if _, ok := Elems(Tuple{}); ok {
		t.Error("Elems of a tuple")
	}
}

func TestEqual(t *testing.T) {
	big1 := mustBig("100000000000000000000")
	equal := [][2]Term{
		{int64(1), int64(1)},
		{int64(5), big.NewInt(5)},
		{big.NewInt(5), int64(5)},
		{big1, mustBig("100000000000000000000")},
		{1.5, 1.5},
		{0.0, math.Copysign(0, -1)},
		{Atom("a"), Atom("a")},
		{Binary("ab"), Binary("ab")},
		{Binary{}, Binary(nil)},
		{Binary{}, BitBinary{}},
		{Binary{1, 2}, BitBinary{Bytes: []byte{1, 2}, Bits: 8}},
		{BitBinary{Bytes: []byte{0xE0}, Bits: 3}, BitBinary{Bytes: []byte{0xFF}, Bits: 3}},
		{String("ab"), List{int64('a'), int64('b')}},
		{List{int64('a'), int64('b')}, String("ab")},
		{String(""), List{}},
		{List{}, List(nil)},
		{ImproperList{Elems: []Term{int64(1)}, Tail: List{int64(2)}}, List{int64(1), int64(2)}},
		{ImproperList{Elems: []Term{int64(1)}, Tail: String("b")}, String("\x01b")},
		{ImproperList{Elems: []Term{int64(1)}, Tail: Atom("t")},
			ImproperList{Elems: []Term{}, Tail: ImproperList{Elems: []Term{int64(1)}, Tail: Atom("t")}}},
		{Tuple{Atom("a"), List{}}, Tuple{Atom("a"), String("")}},
		{Map{{Atom("a"), int64(1)}, {Binary("b"), int64(2)}}, Map{{Binary("b"), int64(2)}, {Atom("a"), int64(1)}}},
		{Map{{List{int64(1)}, Map{}}}, Map{{String("\x01"), Map{}}}},
		{Pid{Node: "n", ID: 1}, Pid{Node: "n", ID: 1}},
		{Port{Node: "n", ID: 1}, Port{Node: "n", ID: 1}},
		{Ref{Node: "n", IDs: []uint32{1, 2}}, Ref{Node: "n", IDs: []uint32{1, 2}}},
		{Fun{Module: "m", Raw: []byte{1}}, Fun{Module: "m", Raw: []byte{1}}},
		{Export{"m", "f", 1}, Export{"m", "f", 1}},
		{nil, nil},
	}
	for _, p := range equal {
		if !Equal(p[0], p[1]) || !Equal(p[1], p[0]) {
			t.Errorf("%s =/= %s", Format(p[0]), Format(p[1]))
		}
	}
	unequal := [][2]Term{
		{int64(1), 1.0},
		{int64(1), int64(2)},
		{big.NewInt(5), big1},
		{int64(5), (*big.Int)(nil)},
		{1.0, int64(1)},
		{Atom("a"), Binary("a")},
		{Atom("a"), String("a")},
		{Binary("a"), String("a")},
		{Binary{1}, BitBinary{Bytes: []byte{1}, Bits: 7}},
		{BitBinary{Bytes: []byte{0xE0}, Bits: 3}, BitBinary{Bytes: []byte{0xE0}, Bits: 4}},
		{String("ab"), List{int64('a')}},
		{List{int64(1)}, ImproperList{Elems: []Term{int64(1)}, Tail: int64(2)}},
		{ImproperList{Elems: []Term{int64(1)}, Tail: int64(3)}, ImproperList{Elems: []Term{int64(1)}, Tail: int64(2)}},
		{List{}, Tuple{}},
		{Tuple{int64(1)}, Tuple{int64(1), int64(2)}},
		{Tuple{int64(1)}, Tuple{int64(2)}},
		{Map{{Atom("a"), int64(1)}}, Map{{Atom("a"), int64(2)}}},
		{Map{{Atom("a"), int64(1)}}, Map{{Atom("b"), int64(1)}}},
		{Map{{Atom("a"), int64(1)}}, Map{}},
		{Map{{Atom("a"), int64(1)}, {Atom("a"), int64(1)}}, Map{{Atom("a"), int64(1)}, {Atom("b"), int64(1)}}},
		{Pid{Node: "n", ID: 1}, Pid{Node: "m", ID: 1}},
		{Ref{Node: "n", IDs: []uint32{1, 2}}, Ref{Node: "n", IDs: []uint32{1}}},
		{Fun{Module: "m", Raw: []byte{1}}, Fun{Module: "m", Raw: []byte{2}}},
		{Export{"m", "f", 1}, Export{"m", "f", 2}},
		{nil, List{}},
		{int(1), int(1)}, // not terms
	}
	for _, p := range unequal {
		if Equal(p[0], p[1]) || Equal(p[1], p[0]) {
			t.Errorf("%s =:= %s", Format(p[0]), Format(p[1]))
		}
	}
}

func TestMapGet(t *testing.T) {
	m := Map{
		{Binary("localhost"), int64(1)},
		{Atom("backend"), Atom("mnesia")},
		{List{int64('a')}, int64(2)},
		{Tuple{Atom("modules"), Binary("localhost")}, int64(3)},
	}
	tests := []struct {
		key  Term
		want Term
		ok   bool
	}{
		{Binary("localhost"), int64(1), true},
		{String("localhost"), nil, false},
		{Atom("backend"), Atom("mnesia"), true},
		{String("a"), int64(2), true},
		{Tuple{Atom("modules"), Binary("localhost")}, int64(3), true},
		{Atom("missing"), nil, false},
	}
	for _, tt := range tests {
		got, ok := m.Get(tt.key)
		if !reflect.DeepEqual(got, tt.want) || ok != tt.ok {
			t.Errorf("Get(%s) = %s, %v", Format(tt.key), Format(got), ok)
		}
	}
	if v, ok := m.GetAtom("backend"); !ok || v != Atom("mnesia") {
		t.Errorf("GetAtom(backend) = %v, %v", v, ok)
	}
	if _, ok := m.GetAtom("localhost"); ok {
		t.Error("GetAtom matched a binary")
	}
	if _, ok := Map(nil).Get(Atom("a")); ok {
		t.Error("Get in a nil map")
	}
}

func TestPropGet(t *testing.T) {
	l := List{
		Atom("debug"),
		Tuple{Atom("count"), int64(1)},
		Tuple{Atom("count"), int64(2)},
		Tuple{Atom("three"), int64(1), int64(2)},
		Tuple{Atom("three"), int64(3)},
		Tuple{Binary("bin"), Atom("b")},
		Tuple{},
		int64(5),
	}
	tests := []struct {
		key  Term
		want Term
		ok   bool
	}{
		{Atom("debug"), Atom("true"), true},
		{Atom("count"), int64(1), true},
		{Atom("three"), nil, false}, // as proplists: the first match decides
		{Binary("bin"), Atom("b"), true},
		{String("bin"), nil, false},
		{int64(5), nil, false}, // only atoms stand alone
		{Atom("missing"), nil, false},
	}
	for _, tt := range tests {
		got, ok := propGet(l, tt.key)
		if !reflect.DeepEqual(got, tt.want) || ok != tt.ok {
			t.Errorf("propGet(%s) = %s, %v", Format(tt.key), Format(got), ok)
		}
	}
	if _, ok := propGet(Tuple{Atom("a"), int64(1)}, Atom("a")); ok {
		t.Error("propGet in a tuple")
	}
}

func TestRecord(t *testing.T) {
	r := Tuple{Atom("config"), Atom("hosts"), List{}}
	if got, ok := Record(r, "config", 3); !ok || len(got) != 3 {
		t.Error("Record(config, 3)")
	}
	for _, c := range []struct {
		t    Term
		name string
		size int
	}{
		{r, "config", 2},
		{r, "hosts", 3},
		{Tuple{}, "", 0},
		{Tuple{Binary("config")}, "config", 1},
		{List{Atom("config")}, "config", 1},
	} {
		if _, ok := Record(c.t, c.name, c.size); ok {
			t.Errorf("Record(%s, %s, %d)", Format(c.t), c.name, c.size)
		}
	}
}
