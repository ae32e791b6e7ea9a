// Package etf decodes Erlang's external term format, the bytes that
// term_to_binary/1,2 produces and that a MongooseIM node returns over RPC.
//
// Decode is total: any input yields a term or an error, never a panic, and
// the memory it allocates is bounded by what the input can back. Maps may
// have keys of any type, as they do in Erlang.
//
// Terms are plain Go values: int64 or *big.Int for integers, float64 for
// floats, and the types below for everything else.
package etf

// Term is a decoded Erlang term.
//
// Integers are int64 when they fit and *big.Int otherwise; floats are
// float64. Every other term is one of the types of this package.
type Term = any

// Atom is an Erlang atom, in UTF-8. The atoms true and false stay atoms.
type Atom string

// Binary is an Erlang binary (a bitstring whose size is a whole number of
// bytes).
type Binary []byte

// BitBinary is a bitstring whose size is not a whole number of bytes.
// Bits is the number of bits used in the last byte of Bytes (1..8), taken
// from its most significant end; the unused bits are zero.
type BitBinary struct {
	Bytes []byte
	Bits  uint8
}

// Tuple is an Erlang tuple.
type Tuple []Term

// List is a proper Erlang list. The empty list is List{}.
type List []Term

// String is a list of integers in 0..255 kept compact, one byte per
// element, as STRING_EXT sends it. It is a list, not a binary: its bytes
// are Latin-1 code points, see Text to get UTF-8.
type String string

// ImproperList is a list whose tail is not the empty list, such as [a|b].
type ImproperList struct {
	Elems []Term
	Tail  Term
}

// Map is an Erlang map: its pairs in the order they came on the wire.
// Keys may be of any type.
type Map []MapPair

// MapPair is one association of a Map.
type MapPair struct {
	Key, Value Term
}

// Pid is an Erlang process identifier.
type Pid struct {
	Node                 Atom
	ID, Serial, Creation uint32
}

// Port is an Erlang port identifier.
type Port struct {
	Node     Atom
	ID       uint64
	Creation uint32
}

// Ref is an Erlang reference. IDs are in wire order, least significant
// word first.
type Ref struct {
	Node     Atom
	Creation uint32
	IDs      []uint32
}

// Fun is a local fun (a closure). It is opaque: Raw holds its whole
// encoding, tag byte included, so that prefixing the version byte 131
// gives back a valid external term.
type Fun struct {
	Module Atom
	Raw    []byte
}

// Export is an external fun, fun Module:Function/Arity.
type Export struct {
	Module, Function Atom
	Arity            int
}

// Elided stands for a tuple, list, map or fun nested deeper than
// Limits.MaxDepth, which a decoder with Limits.ElideDeep skips.
type Elided struct{}
