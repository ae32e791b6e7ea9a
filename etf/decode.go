package etf

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"
)

// Errors wrapped by those of Decode, for use with errors.Is.
var (
	// errTruncated reports input that ends too soon, including a length
	// field that promises more than the input holds.
	errTruncated = errors.New("unexpected end of input")
	// errMalformed reports input that is not a valid external term.
	errMalformed = errors.New("malformed term")
	// errTooDeep reports nesting deeper than Limits.MaxDepth.
	errTooDeep = errors.New("term nested too deep")
	// errTooLarge reports a compressed term larger than
	// Limits.MaxUncompressed once uncompressed.
	errTooLarge = errors.New("term too large")
)

// Default limits, used for the zero fields of Limits.
const (
	defaultMaxDepth        = 1000
	DefaultMaxUncompressed = 64 << 20
)

// Limits bounds what DecodeLimits accepts. A field that is zero or
// negative takes its default.
type Limits struct {
	// MaxDepth is the deepest nesting of tuples, lists, maps and funs;
	// the outermost one is at depth 1.
	MaxDepth int
	// MaxUncompressed is the largest size, in bytes, of a compressed term
	// (term_to_binary(T, [compressed])) once uncompressed.
	MaxUncompressed int
	// ElideDeep decodes a tuple, list, map or fun that would be nested
	// deeper than MaxDepth as Elided{}, skipping its bytes without
	// recursion, instead of failing with errTooDeep: one odd value in an
	// answer then costs only itself.
	ElideDeep bool
}

// Tags of the external term format.
const (
	tagVersion        = 131
	tagDistHeader     = 68
	tagDistFragHeader = 69
	tagNewFloat       = 70
	tagBitBinary      = 77
	tagCompressed     = 80
	tagAtomCacheRef   = 82
	tagNewPid         = 88
	tagNewPort        = 89
	tagNewerRef       = 90
	tagSmallInt       = 97
	tagInt            = 98
	tagFloat          = 99
	tagAtom           = 100
	tagRef            = 101
	tagPort           = 102
	tagPid            = 103
	tagSmallTuple     = 104
	tagLargeTuple     = 105
	tagNil            = 106
	tagString         = 107
	tagList           = 108
	tagBinary         = 109
	tagSmallBig       = 110
	tagLargeBig       = 111
	tagNewFun         = 112
	tagExport         = 113
	tagNewRef         = 114
	tagSmallAtom      = 115
	tagMap            = 116
	tagFun            = 117
	tagAtomUTF8       = 118
	tagSmallAtomUTF8  = 119
	tagV4Port         = 120
	tagLocal          = 121
)

// emptyList is [], boxed once.
var emptyList Term = List{}

// maxAtomChars is the longest atom Erlang accepts, in characters.
const maxAtomChars = 255

// Decode decodes one term in the external term format. b starts with the
// version byte 131 and holds exactly one term, possibly compressed.
// Decode uses the default Limits; it does not retain b.
func Decode(b []byte) (Term, error) {
	return DecodeLimits(b, Limits{})
}

// DecodeLimits is Decode with the given limits.
func DecodeLimits(b []byte, l Limits) (Term, error) {
	if l.MaxDepth <= 0 {
		l.MaxDepth = defaultMaxDepth
	}
	if l.MaxUncompressed <= 0 {
		l.MaxUncompressed = DefaultMaxUncompressed
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("etf: version byte at offset 0: %w", errTruncated)
	}
	if b[0] != tagVersion {
		return nil, fmt.Errorf("etf: version byte %d at offset 0 (want 131): %w", b[0], errMalformed)
	}
	d := &decoder{b: b, off: 1, maxDepth: l.MaxDepth, elide: l.ElideDeep}
	if len(b) > 1 {
		switch b[1] {
		case tagCompressed:
			raw, err := inflate(b[2:], l.MaxUncompressed)
			if err != nil {
				return nil, err
			}
			d = &decoder{b: raw, maxDepth: l.MaxDepth, elide: l.ElideDeep, where: " of uncompressed data"}
		case tagDistHeader, tagDistFragHeader:
			return nil, fmt.Errorf("etf: distribution header at offset 1: %w", errMalformed)
		}
	}
	t, err := d.term()
	if err != nil {
		return nil, err
	}
	if d.off != len(d.b) {
		return nil, d.errorf(d.off, errMalformed, "%d trailing bytes", len(d.b)-d.off)
	}
	return t, nil
}

// inflate uncompresses the body of a compressed term: a 4-byte size and
// a zlib stream that must end the input.
func inflate(b []byte, limit int) ([]byte, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("etf: compressed term size at offset 2: %w", errTruncated)
	}
	size := uint64(binary.BigEndian.Uint32(b))
	if size > uint64(limit) {
		return nil, fmt.Errorf("etf: compressed term of %d bytes at offset 2 (limit %d): %w", size, limit, errTooLarge)
	}
	r := bytes.NewReader(b[4:])
	zr, err := zlib.NewReader(r)
	if err != nil {
		return nil, zlibError(err)
	}
	// Grow the buffer with what the stream actually yields, rather than
	// trusting size: a few bytes could claim gigabytes.
	var out bytes.Buffer
	out.Grow(int(min(size, uint64(4*len(b)+512))))
	n, err := out.ReadFrom(io.LimitReader(zr, int64(size)+1))
	if err != nil {
		return nil, zlibError(err)
	}
	if uint64(n) != size {
		return nil, fmt.Errorf("etf: compressed term at offset 6 holds %d+ bytes, not %d: %w", n, size, errMalformed)
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("etf: %d trailing bytes after compressed term: %w", r.Len(), errMalformed)
	}
	return out.Bytes(), nil
}

func zlibError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("etf: compressed term at offset 6: %v: %w", err, errTruncated)
	}
	return fmt.Errorf("etf: compressed term at offset 6: %v: %w", err, errMalformed)
}

// A decoder reads terms from b.
type decoder struct {
	b   []byte
	off int
	// pending is how many bytes the rest of b must still hold for the
	// elements of the containers being decoded: at least one per element.
	// Checking lengths against len(b)-off-pending, not just len(b)-off,
	// bounds allocation by the input size whatever the nesting.
	pending  int
	depth    int
	maxDepth int
	elide    bool   // Limits.ElideDeep
	where    string // suffix for error offsets
}

func (d *decoder) errorf(at int, err error, format string, args ...any) error {
	return fmt.Errorf("etf: %s at offset %d%s: %w", fmt.Sprintf(format, args...), at, d.where, err)
}

// avail is how many bytes may be read now.
func (d *decoder) avail() int { return len(d.b) - d.off - d.pending }

// next returns the next n bytes, which alias b.
func (d *decoder) next(n uint64, at int, what string) ([]byte, error) {
	if n > uint64(d.avail()) {
		return nil, d.errorf(at, errTruncated, "%s (%d bytes, %d left)", what, n, d.avail())
	}
	p := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return p, nil
}

func (d *decoder) u8(at int, what string) (uint8, error) {
	p, err := d.next(1, at, what)
	if err != nil {
		return 0, err
	}
	return p[0], nil
}

func (d *decoder) u16(at int, what string) (uint16, error) {
	p, err := d.next(2, at, what)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint16(p), nil
}

func (d *decoder) u32(at int, what string) (uint32, error) {
	p, err := d.next(4, at, what)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint32(p), nil
}

func (d *decoder) u64(at int, what string) (uint64, error) {
	p, err := d.next(8, at, what)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint64(p), nil
}

// reserve promises the n elements of a container, which take need bytes
// at least (one per element, and one for the tail of a list); it fails
// when the input cannot hold them.
func (d *decoder) reserve(n, need uint64, at int, what string) error {
	if need > uint64(d.avail()) {
		return d.errorf(at, errTruncated, "%s of %d elements (%d bytes at least, %d left)", what, n, need, d.avail())
	}
	d.pending += int(need)
	return nil
}

// elem decodes one element promised by reserve.
func (d *decoder) elem() (Term, error) {
	d.pending--
	return d.term()
}

// enter and leave bracket the elements of a container.
func (d *decoder) enter(at int) error {
	d.depth++
	if d.depth > d.maxDepth {
		return d.errorf(at, errTooDeep, "depth %d", d.depth)
	}
	return nil
}

func (d *decoder) leave() { d.depth-- }

// term decodes the term at d.off.
func (d *decoder) term() (Term, error) {
	at := d.off
	tag, err := d.u8(at, "tag")
	if err != nil {
		return nil, err
	}
	if d.elide && d.depth >= d.maxDepth && nests(tag) {
		d.off = at
		if err := d.skip(); err != nil {
			return nil, err
		}
		return Elided{}, nil
	}
	switch tag {
	case tagSmallInt:
		v, err := d.u8(at, "SMALL_INTEGER_EXT")
		if err != nil {
			return nil, err
		}
		return int64(v), nil
	case tagInt:
		v, err := d.u32(at, "INTEGER_EXT")
		if err != nil {
			return nil, err
		}
		return int64(int32(v)), nil
	case tagSmallBig:
		n, err := d.u8(at, "SMALL_BIG_EXT")
		if err != nil {
			return nil, err
		}
		return d.bigint(uint64(n), at, "SMALL_BIG_EXT")
	case tagLargeBig:
		n, err := d.u32(at, "LARGE_BIG_EXT")
		if err != nil {
			return nil, err
		}
		return d.bigint(uint64(n), at, "LARGE_BIG_EXT")
	case tagNewFloat:
		v, err := d.u64(at, "NEW_FLOAT_EXT")
		if err != nil {
			return nil, err
		}
		f := math.Float64frombits(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, d.errorf(at, errMalformed, "NEW_FLOAT_EXT %v", f)
		}
		return f, nil
	case tagFloat:
		return d.oldFloat(at)
	case tagAtom, tagSmallAtom, tagAtomUTF8, tagSmallAtomUTF8:
		return d.atomBody(tag, at)
	case tagNil:
		return emptyList, nil
	case tagString:
		n, err := d.u16(at, "STRING_EXT")
		if err != nil {
			return nil, err
		}
		p, err := d.next(uint64(n), at, "STRING_EXT")
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return emptyList, nil
		}
		return String(p), nil
	case tagList:
		return d.list(at)
	case tagSmallTuple:
		n, err := d.u8(at, "SMALL_TUPLE_EXT")
		if err != nil {
			return nil, err
		}
		return d.tuple(uint64(n), at)
	case tagLargeTuple:
		n, err := d.u32(at, "LARGE_TUPLE_EXT")
		if err != nil {
			return nil, err
		}
		return d.tuple(uint64(n), at)
	case tagMap:
		return d.mapBody(at)
	case tagBinary:
		n, err := d.u32(at, "BINARY_EXT")
		if err != nil {
			return nil, err
		}
		p, err := d.next(uint64(n), at, "BINARY_EXT")
		if err != nil {
			return nil, err
		}
		return Binary(bytes.Clone(p)), nil
	case tagBitBinary:
		return d.bitBinary(at)
	case tagPid, tagNewPid:
		return d.pid(tag, at)
	case tagPort, tagNewPort, tagV4Port:
		return d.port(tag, at)
	case tagRef, tagNewRef, tagNewerRef:
		return d.ref(tag, at)
	case tagNewFun:
		return d.newFun(at)
	case tagFun:
		return d.oldFun(at)
	case tagExport:
		return d.export(at)
	case tagAtomCacheRef:
		return nil, d.errorf(at, errMalformed, "ATOM_CACHE_REF outside the distribution protocol")
	case tagCompressed:
		return nil, d.errorf(at, errMalformed, "nested compressed term")
	case tagLocal:
		return nil, d.errorf(at, errMalformed, "LOCAL_EXT from another node")
	}
	return nil, d.errorf(at, errMalformed, "unknown tag %d", tag)
}

// nests reports whether a term with this tag holds other terms.
func nests(tag byte) bool {
	switch tag {
	case tagSmallTuple, tagLargeTuple, tagList, tagMap, tagNewFun, tagFun:
		return true
	}
	return false
}

// skip moves past one term without building it, iteratively whatever its
// nesting, checking every length against the input.
func (d *decoder) skip() error {
	for n := uint64(1); n > 0; n-- {
		at := d.off
		tag, err := d.u8(at, "tag")
		if err != nil {
			return err
		}
		var more uint64 // the terms this one holds
		switch tag {
		case tagSmallTuple:
			a, err := d.u8(at, "SMALL_TUPLE_EXT")
			if err != nil {
				return err
			}
			more = uint64(a)
		case tagLargeTuple:
			a, err := d.u32(at, "LARGE_TUPLE_EXT")
			if err != nil {
				return err
			}
			more = uint64(a)
		case tagList:
			l, err := d.u32(at, "LIST_EXT")
			if err != nil {
				return err
			}
			more = uint64(l) + 1 // and the tail
		case tagMap:
			a, err := d.u32(at, "MAP_EXT")
			if err != nil {
				return err
			}
			more = 2 * uint64(a)
		case tagNewFun:
			size, err := d.u32(at, "NEW_FUN_EXT size")
			if err != nil {
				return err
			}
			if size < 4 {
				return d.errorf(at, errMalformed, "NEW_FUN_EXT size %d", size)
			}
			if _, err := d.next(uint64(size)-4, at, "NEW_FUN_EXT"); err != nil {
				return err
			}
		case tagFun:
			numFree, err := d.u32(at, "FUN_EXT")
			if err != nil {
				return err
			}
			more = 4 + uint64(numFree) // pid, module, index, uniq, free variables
		case tagBinary:
			l, err := d.u32(at, "BINARY_EXT")
			if err != nil {
				return err
			}
			if _, err := d.next(uint64(l), at, "BINARY_EXT"); err != nil {
				return err
			}
		default: // a term that holds no other
			d.off = at
			if _, err := d.term(); err != nil {
				return err
			}
		}
		if more > uint64(d.avail()) {
			return d.errorf(at, errTruncated, "%d terms (%d bytes left)", more, d.avail())
		}
		n += more
	}
	return nil
}

// bigint decodes the sign and n little-endian digits of a bignum.
func (d *decoder) bigint(n uint64, at int, what string) (Term, error) {
	sign, err := d.u8(at, what)
	if err != nil {
		return nil, err
	}
	p, err := d.next(n, at, what)
	if err != nil {
		return nil, err
	}
	if n <= 8 {
		var m uint64
		for i := len(p) - 1; i >= 0; i-- {
			m = m<<8 | uint64(p[i])
		}
		switch {
		case sign == 0 && m <= math.MaxInt64:
			return int64(m), nil
		case sign != 0 && m <= 1<<63:
			return int64(-m), nil // wraps to MinInt64 for 1<<63
		}
	}
	be := make([]byte, n)
	for i, c := range p {
		be[len(be)-1-i] = c
	}
	x := new(big.Int).SetBytes(be)
	if sign != 0 {
		x.Neg(x)
	}
	if x.IsInt64() { // leading zero digits
		return x.Int64(), nil
	}
	return x, nil
}

// oldFloat decodes FLOAT_EXT: 31 bytes of "%.20e" text, NUL padded.
func (d *decoder) oldFloat(at int) (Term, error) {
	p, err := d.next(31, at, "FLOAT_EXT")
	if err != nil {
		return nil, err
	}
	if i := bytes.IndexByte(p, 0); i >= 0 {
		p = p[:i]
	}
	f, err := strconv.ParseFloat(string(p), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, d.errorf(at, errMalformed, "FLOAT_EXT %q", p)
	}
	return f, nil
}

// atomBody decodes the length and text of an atom whose tag was read.
func (d *decoder) atomBody(tag byte, at int) (Term, error) {
	var n uint64
	switch tag {
	case tagAtom, tagAtomUTF8:
		v, err := d.u16(at, "atom length")
		if err != nil {
			return nil, err
		}
		n = uint64(v)
	default:
		v, err := d.u8(at, "atom length")
		if err != nil {
			return nil, err
		}
		n = uint64(v)
	}
	p, err := d.next(n, at, "atom text")
	if err != nil {
		return nil, err
	}
	if tag == tagAtomUTF8 || tag == tagSmallAtomUTF8 {
		if !utf8.Valid(p) {
			return nil, d.errorf(at, errMalformed, "atom %q not UTF-8", p)
		}
		if n > maxAtomChars && utf8.RuneCount(p) > maxAtomChars {
			return nil, d.errorf(at, errMalformed, "atom of %d characters", utf8.RuneCount(p))
		}
	} else {
		if n > maxAtomChars {
			return nil, d.errorf(at, errMalformed, "atom of %d characters", n)
		}
		if !isASCII(p) {
			p = latin1ToUTF8(p)
		}
	}
	return internAtom(p), nil
}

// knownAtoms holds every atom decoded so far, already boxed, up to
// maxKnownAtoms of them: the answers of one cluster name the same few
// hundred atoms again and again, and looking one up costs less than
// allocating it. Past the limit (a node sending ever new atoms), atoms are
// allocated as they come.
var knownAtoms = struct {
	sync.RWMutex
	m map[string]Term
}{m: map[string]Term{}}

const maxKnownAtoms = 16384

// internAtom is the atom named p, boxed.
func internAtom(p []byte) Term {
	knownAtoms.RLock()
	t, ok := knownAtoms.m[string(p)]
	knownAtoms.RUnlock()
	if ok {
		return t
	}
	s := string(p)
	t = Atom(s)
	knownAtoms.Lock()
	if len(knownAtoms.m) < maxKnownAtoms {
		knownAtoms.m[s] = t
	}
	knownAtoms.Unlock()
	return t
}

// atom decodes an atom with its tag, where only an atom may be.
func (d *decoder) atom(what string) (Atom, error) {
	at := d.off
	tag, err := d.u8(at, what)
	if err != nil {
		return "", err
	}
	switch tag {
	case tagAtom, tagSmallAtom, tagAtomUTF8, tagSmallAtomUTF8:
	default:
		return "", d.errorf(at, errMalformed, "%s: tag %d is not an atom", what, tag)
	}
	t, err := d.atomBody(tag, at)
	if err != nil {
		return "", err
	}
	return t.(Atom), nil
}

func isASCII(p []byte) bool {
	for _, c := range p {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func latin1ToUTF8(p []byte) []byte {
	out := make([]byte, 0, 2*len(p))
	for _, c := range p {
		out = utf8.AppendRune(out, rune(c))
	}
	return out
}

func (d *decoder) tuple(n uint64, at int) (Term, error) {
	if err := d.enter(at); err != nil {
		return nil, err
	}
	if err := d.reserve(n, n, at, "tuple"); err != nil {
		return nil, err
	}
	t := make(Tuple, n)
	for i := range t {
		e, err := d.elem()
		if err != nil {
			return nil, err
		}
		t[i] = e
	}
	d.leave()
	return t, nil
}

// list decodes LIST_EXT. A tail that is itself a list joins the elements,
// as [1|[2]] is [1,2]; a list without elements is its tail.
func (d *decoder) list(at int) (Term, error) {
	if err := d.enter(at); err != nil {
		return nil, err
	}
	var elems []Term
	for {
		n, err := d.u32(at, "LIST_EXT")
		if err != nil {
			return nil, err
		}
		if err := d.reserve(uint64(n), uint64(n)+1, at, "LIST_EXT"); err != nil {
			return nil, err
		}
		if elems == nil {
			elems = make([]Term, 0, n)
		} else {
			elems = slices.Grow(elems, int(n))
		}
		for range n {
			e, err := d.elem()
			if err != nil {
				return nil, err
			}
			elems = append(elems, e)
		}
		d.pending-- // the tail
		tailAt := d.off
		tag, err := d.u8(tailAt, "list tail")
		if err != nil {
			return nil, err
		}
		switch tag {
		case tagNil:
			d.leave()
			return List(elems), nil
		case tagList:
			at = tailAt
			continue
		}
		d.off = tailAt
		tail, err := d.term()
		if err != nil {
			return nil, err
		}
		d.leave()
		switch tail := tail.(type) {
		case String:
			for i := 0; i < len(tail); i++ {
				elems = append(elems, int64(tail[i]))
			}
			return List(elems), nil
		case List:
			return List(append(elems, tail...)), nil
		}
		if len(elems) == 0 {
			return tail, nil
		}
		return ImproperList{Elems: elems, Tail: tail}, nil
	}
}

func (d *decoder) mapBody(at int) (Term, error) {
	n, err := d.u32(at, "MAP_EXT")
	if err != nil {
		return nil, err
	}
	if err := d.enter(at); err != nil {
		return nil, err
	}
	if err := d.reserve(uint64(n), 2*uint64(n), at, "MAP_EXT"); err != nil {
		return nil, err
	}
	m := make(Map, n)
	for i := range m {
		k, err := d.elem()
		if err != nil {
			return nil, err
		}
		v, err := d.elem()
		if err != nil {
			return nil, err
		}
		m[i] = MapPair{k, v}
	}
	d.leave()
	return m, nil
}

func (d *decoder) bitBinary(at int) (Term, error) {
	n, err := d.u32(at, "BIT_BINARY_EXT")
	if err != nil {
		return nil, err
	}
	bits, err := d.u8(at, "BIT_BINARY_EXT")
	if err != nil {
		return nil, err
	}
	if bits > 8 || (bits == 0) != (n == 0) {
		return nil, d.errorf(at, errMalformed, "BIT_BINARY_EXT of %d bytes with %d bits", n, bits)
	}
	p, err := d.next(uint64(n), at, "BIT_BINARY_EXT")
	if err != nil {
		return nil, err
	}
	if bits == 0 || bits == 8 {
		return Binary(bytes.Clone(p)), nil
	}
	b := bytes.Clone(p)
	b[len(b)-1] &= 0xff << (8 - bits)
	return BitBinary{Bytes: b, Bits: bits}, nil
}
