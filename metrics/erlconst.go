package metrics

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/mim-metrics/mim-metrics/etf"
)

// erlConst returns an Erlang expression whose value is the constant term
// t: binary_to_term(list_to_binary("...")) with t's external term format
// in the string. erl_eval evaluates a constant written out (a table of
// tuples, a match specification) node by node, merging its bindings at
// every element, and the form that carries it is several times its text;
// a string is one node, and binary_to_term builds the term in C. Package
// node goes further when it prepares a source: it decodes such a constant
// once and sends it as a literal. t may hold atoms, small integers,
// tuples, lists and maps of those.
func erlConst(t etf.Term) string {
	b := []byte{131}
	b = appendConst(b, t)
	var s strings.Builder
	s.WriteString(`binary_to_term(list_to_binary("`)
	for _, c := range b {
		switch {
		case c == '"' || c == '\\':
			s.WriteByte('\\')
			s.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			s.WriteByte(c)
		default:
			fmt.Fprintf(&s, `\x{%x}`, c)
		}
	}
	s.WriteString(`"))`)
	return s.String()
}

func appendConst(b []byte, t etf.Term) []byte {
	switch v := t.(type) {
	case etf.Atom:
		if len(v) > 255 {
			panic("erlConst: atom too long: " + string(v))
		}
		b = append(b, 119, byte(len(v)))
		return append(b, v...)
	case int64:
		return appendConst(b, int(v))
	case int:
		if v < -1<<31 || v >= 1<<31 {
			panic(fmt.Sprintf("erlConst: integer %d too large", v))
		}
		if v >= 0 && v <= 255 {
			return append(b, 97, byte(v))
		}
		b = append(b, 98)
		return binary.BigEndian.AppendUint32(b, uint32(int32(v)))
	case etf.String:
		if len(v) == 0 {
			return append(b, 106)
		}
		if len(v) > 65535 {
			panic("erlConst: string too long")
		}
		b = append(b, 107)
		b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
		return append(b, v...)
	case etf.Tuple:
		if len(v) > 255 {
			panic("erlConst: tuple too large")
		}
		b = append(b, 104, byte(len(v)))
		for _, e := range v {
			b = appendConst(b, e)
		}
		return b
	case etf.List:
		if len(v) == 0 {
			return append(b, 106)
		}
		b = append(b, 108)
		b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		for _, e := range v {
			b = appendConst(b, e)
		}
		return append(b, 106)
	case etf.Map:
		b = append(b, 116)
		b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		for _, p := range v {
			b = appendConst(appendConst(b, p.Key), p.Value)
		}
		return b
	}
	panic(fmt.Sprintf("erlConst: cannot encode %T", t))
}

// Shorthands for writing constants.

func atoms(names ...string) etf.List {
	out := make(etf.List, len(names))
	for i, n := range names {
		out[i] = etf.Atom(n)
	}
	return out
}

func tuple(es ...etf.Term) etf.Tuple { return etf.Tuple(es) }

func list(es ...etf.Term) etf.List { return etf.List(es) }

// mapOf is a map from pairs key, value, key, value...
func mapOf(kvs ...etf.Term) etf.Map {
	out := make(etf.Map, 0, len(kvs)/2)
	for i := 0; i+1 < len(kvs); i += 2 {
		out = append(out, etf.MapPair{Key: kvs[i], Value: kvs[i+1]})
	}
	return out
}

// matchSpec is a match specification of clauses {Head, Guards, Body}, as
// ets:match_spec_compile/1 takes it, written as a constant.
func matchSpec(clauses ...etf.Tuple) string {
	l := make(etf.List, len(clauses))
	for i, c := range clauses {
		l[i] = c
	}
	return erlConst(l)
}

// msClause is {Head, [], [Result]}, a clause without guards.
func msClause(head, result etf.Term) etf.Tuple {
	return tuple(head, list(), list(result))
}
