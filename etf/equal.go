package etf

import (
	"bytes"
	"math/big"
	"slices"
)

// Equal reports whether a and b are the same Erlang term, as =:= does.
// Integers compare by value whatever their Go type (int64 or *big.Int),
// never equal to floats; 0.0 equals -0.0, as in OTP 25 and before; a
// String equals the List of its bytes, and
// [1|[2]] equals [1,2]; maps compare as sets of pairs; a BitBinary of
// whole bytes equals the Binary of the same bytes. Terms must not be
// cyclic.
func Equal(a, b Term) bool {
	switch x := a.(type) {
	case int64, *big.Int:
		return intEqual(x, b)
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case Atom:
		y, ok := b.(Atom)
		return ok && x == y
	case Binary, BitBinary:
		return bitsEqual(x, b)
	case Tuple:
		y, ok := b.(Tuple)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case List, String, ImproperList:
		return listEqual(x, b)
	case Map:
		y, ok := b.(Map)
		return ok && mapEqual(x, y)
	case Pid:
		y, ok := b.(Pid)
		return ok && x == y
	case Port:
		y, ok := b.(Port)
		return ok && x == y
	case Ref:
		y, ok := b.(Ref)
		return ok && x.Node == y.Node && x.Creation == y.Creation && slices.Equal(x.IDs, y.IDs)
	case Fun:
		y, ok := b.(Fun)
		return ok && x.Module == y.Module && bytes.Equal(x.Raw, y.Raw)
	case Export:
		y, ok := b.(Export)
		return ok && x == y
	case Elided:
		_, ok := b.(Elided)
		return ok
	case nil:
		return b == nil
	}
	return false
}

func intEqual(a, b Term) bool {
	switch y := b.(type) {
	case int64:
		switch x := a.(type) {
		case int64:
			return x == y
		case *big.Int:
			return x != nil && x.IsInt64() && x.Int64() == y
		}
	case *big.Int:
		if y == nil {
			return false
		}
		switch x := a.(type) {
		case int64:
			return y.IsInt64() && y.Int64() == x
		case *big.Int:
			return x != nil && x.Cmp(y) == 0
		}
	}
	return false
}

// bitstring returns the bytes and size in bits of a Binary or BitBinary.
func bitstring(t Term) (b []byte, size uint64, ok bool) {
	switch x := t.(type) {
	case Binary:
		return x, 8 * uint64(len(x)), true
	case BitBinary:
		if len(x.Bytes) == 0 {
			return nil, 0, true
		}
		bits := uint64(min(max(x.Bits, 1), 8))
		return x.Bytes, 8*uint64(len(x.Bytes)-1) + bits, true
	}
	return nil, 0, false
}

func bitsEqual(a, b Term) bool {
	x, n, _ := bitstring(a)
	y, m, ok := bitstring(b)
	if !ok || n != m {
		return false
	}
	if n%8 == 0 {
		return bytes.Equal(x[:n/8], y[:n/8])
	}
	last := n / 8
	mask := byte(0xff) << (8 - n%8)
	return bytes.Equal(x[:last], y[:last]) && x[last]&mask == y[last]&mask
}

// A listIter walks the elements of a list, whatever its representation,
// following tails that are lists.
type listIter struct {
	l     []Term
	s     String
	isStr bool
	i     int
	tail  Term // what follows the current segment; nil for []
}

func newListIter(t Term) (listIter, bool) {
	switch x := t.(type) {
	case List:
		return listIter{l: x}, true
	case String:
		return listIter{s: x, isStr: true}, true
	case ImproperList:
		return listIter{l: x.Elems, tail: x.Tail}, true
	}
	return listIter{}, false
}

// next returns the next element. At the end it returns false and it.tail
// is the tail of the list: nil when it is proper.
func (it *listIter) next() (Term, bool) {
	for {
		if it.isStr {
			if it.i < len(it.s) {
				it.i++
				return int64(it.s[it.i-1]), true
			}
		} else if it.i < len(it.l) {
			it.i++
			return it.l[it.i-1], true
		}
		switch t := it.tail.(type) {
		case List:
			*it = listIter{l: t}
		case String:
			*it = listIter{s: t, isStr: true}
		case ImproperList:
			*it = listIter{l: t.Elems, tail: t.Tail}
		default:
			return nil, false
		}
	}
}

func listEqual(a, b Term) bool {
	x, _ := newListIter(a)
	y, ok := newListIter(b)
	if !ok {
		return false
	}
	for {
		e, more := x.next()
		f, moreToo := y.next()
		if more != moreToo {
			return false
		}
		if !more {
			return Equal(x.tail, y.tail)
		}
		if !Equal(e, f) {
			return false
		}
	}
}

// mapEqual compares maps as sets of pairs: in order first, which is fast
// for maps from the same source, then by lookup both ways, which copes
// with the duplicate keys a crafted input may hold.
func mapEqual(x, y Map) bool {
	if len(x) != len(y) {
		return false
	}
	i := 0
	for i < len(x) && Equal(x[i].Key, y[i].Key) && Equal(x[i].Value, y[i].Value) {
		i++
	}
	return subset(x[i:], y[i:]) && subset(y[i:], x[i:])
}

// subset reports whether every pair of x is in y.
func subset(x, y Map) bool {
	for _, p := range x {
		v, ok := y.Get(p.Key)
		if !ok || !Equal(p.Value, v) {
			return false
		}
	}
	return true
}
