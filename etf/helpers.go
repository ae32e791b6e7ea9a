package etf

import (
	"math/big"
	"strings"
	"unicode/utf8"
)

// Text returns the text that t holds: an atom, a binary (as is, even
// when not UTF-8), a String, or a list of Unicode code points (a
// charlist; the empty list is ""). The result is UTF-8 except for
// binaries, which are returned unchanged.
func Text(t Term) (string, bool) {
	switch x := t.(type) {
	case Atom:
		return string(x), true
	case Binary:
		return string(x), true
	case String:
		if isASCII([]byte(x)) {
			return string(x), true
		}
		return string(latin1ToUTF8([]byte(x))), true
	case List:
		var b strings.Builder
		for _, e := range x {
			c, ok := e.(int64)
			if !ok || c < 0 || c > utf8.MaxRune || (c >= 0xD800 && c <= 0xDFFF) {
				return "", false
			}
			b.WriteRune(rune(c))
		}
		return b.String(), true
	}
	return "", false
}

// Int returns the value of an integer that fits in an int64.
func Int(t Term) (int64, bool) {
	switch x := t.(type) {
	case int64:
		return x, true
	case *big.Int:
		if x != nil && x.IsInt64() {
			return x.Int64(), true
		}
	}
	return 0, false
}

// IsAtom reports whether t is the atom name.
func IsAtom(t Term, name string) bool {
	a, ok := t.(Atom)
	return ok && string(a) == name
}

// Elems returns the elements of a proper list: a List, or a String with
// each byte as an int64.
func Elems(t Term) ([]Term, bool) {
	switch x := t.(type) {
	case List:
		return x, true
	case String:
		l := make([]Term, len(x))
		for i := 0; i < len(x); i++ {
			l[i] = int64(x[i])
		}
		return l, true
	}
	return nil, false
}

// Get returns the value of key in m, comparing keys with Equal.
func (m Map) Get(key Term) (Term, bool) {
	for _, p := range m {
		if Equal(p.Key, key) {
			return p.Value, true
		}
	}
	return nil, false
}

// GetAtom returns the value of the atom key name in m.
func (m Map) GetAtom(name string) (Term, bool) {
	for _, p := range m {
		if a, ok := p.Key.(Atom); ok && string(a) == name {
			return p.Value, true
		}
	}
	return nil, false
}

// propGet looks key up in a property list as proplists:get_value/2 does.
// The first element that is key itself, if key is an atom, gives true;
// the first tuple whose first element equals key gives its second
// element, or nothing when that tuple does not have two elements.
func propGet(list Term, key Term) (Term, bool) {
	l, ok := list.(List)
	if !ok {
		return nil, false
	}
	k, keyIsAtom := key.(Atom)
	for _, e := range l {
		switch e := e.(type) {
		case Atom:
			if keyIsAtom && e == k {
				return Atom("true"), true
			}
		case Tuple:
			if len(e) >= 1 && Equal(e[0], key) {
				if len(e) == 2 {
					return e[1], true
				}
				return nil, false
			}
		}
	}
	return nil, false
}

// Record returns t as a tuple if it is a record name of size elements in
// all, the tag included: a tuple of size elements whose first is the
// atom name.
func Record(t Term, name string, size int) (Tuple, bool) {
	r, ok := t.(Tuple)
	if !ok || len(r) != size || size == 0 || !IsAtom(r[0], name) {
		return nil, false
	}
	return r, true
}
