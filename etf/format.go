package etf

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Format prints t as Erlang's io_lib:format("~tp", [T]) does with an
// unlimited line length, that is on one line, under the default
// printable range (Latin-1): atoms quoted when needed, strings as "..."
// when printable, binaries as <<"...">> when printable and <<1,2,3>>
// otherwise, maps as #{K => V} in wire order (which OTP 25 follows too,
// except that it reverses maps of more than 32 keys).
//
// Pids, ports and references print as on their own node, <0.ID.Serial>,
// #Port<0.ID> and #Ref<0.…>: the node is not shown. Integers of more
// than 2^18 bits print in hexadecimal (16#…), which is cheaper than
// decimal. Values that are not terms print as #Go<type>.
func Format(t Term) string {
	return FormatLimit(t, 0)
}

// FormatLimit is Format cut to at most maxBytes bytes, ending in "..."
// when cut; maxBytes <= 0 means no limit. It stops printing once past
// maxBytes, so that its work depends on maxBytes rather than on t, save
// for scanning a binary or list to tell whether it is printable and for
// converting an integer.
func FormatLimit(t Term, maxBytes int) string {
	p := printer{max: maxBytes}
	p.term(t, 0)
	if maxBytes <= 0 || len(p.buf) <= maxBytes {
		return string(p.buf)
	}
	if maxBytes <= 3 {
		return "..."[:maxBytes]
	}
	cut := maxBytes - 3
	for cut > 0 && !utf8.RuneStart(p.buf[cut]) {
		cut--
	}
	return string(p.buf[:cut]) + "..."
}

// maxFormatDepth bounds the recursion of Format for terms built by hand.
const maxFormatDepth = 10000

// hexBits is the size from which integers print in hexadecimal.
const hexBits = 1 << 18

type printer struct {
	buf []byte
	max int
}

// full reports whether the output is already longer than allowed.
func (p *printer) full() bool { return p.max > 0 && len(p.buf) > p.max }

func (p *printer) str(s string) { p.buf = append(p.buf, s...) }

func (p *printer) uint(v uint64) { p.buf = strconv.AppendUint(p.buf, v, 10) }

func (p *printer) term(t Term, depth int) {
	if p.full() {
		return
	}
	if depth > maxFormatDepth {
		p.str("...")
		return
	}
	switch x := t.(type) {
	case int64:
		p.buf = strconv.AppendInt(p.buf, x, 10)
	case *big.Int:
		p.bigInt(x)
	case float64:
		p.buf = appendFloat(p.buf, x)
	case Atom:
		p.atom(string(x))
	case Binary:
		p.binary(x)
	case BitBinary:
		p.bitBinary(x)
	case Tuple:
		p.str("{")
		p.elems(x, depth)
		p.str("}")
	case List, String, ImproperList:
		p.list(x, depth)
	case Map:
		p.str("#{")
		for i, kv := range x {
			if p.full() {
				return
			}
			if i > 0 {
				p.str(",")
			}
			p.term(kv.Key, depth+1)
			p.str(" => ")
			p.term(kv.Value, depth+1)
		}
		p.str("}")
	case Pid:
		p.str("<0.")
		p.uint(uint64(x.ID))
		p.str(".")
		p.uint(uint64(x.Serial))
		p.str(">")
	case Port:
		p.str("#Port<0.")
		p.uint(x.ID)
		p.str(">")
	case Ref:
		p.str("#Ref<0")
		for i := len(x.IDs) - 1; i >= 0; i-- {
			p.str(".")
			p.uint(uint64(x.IDs[i]))
		}
		p.str(">")
	case Fun:
		p.str("#Fun<")
		p.atom(string(x.Module))
		if index, uniq, ok := funIDs(x.Raw); ok {
			p.str(".")
			p.buf = strconv.AppendInt(p.buf, index, 10)
			p.str(".")
			p.buf = strconv.AppendInt(p.buf, uniq, 10)
		}
		p.str(">")
	case Export:
		p.str("fun ")
		p.atom(string(x.Module))
		p.str(":")
		p.atom(string(x.Function))
		p.str("/")
		p.buf = strconv.AppendInt(p.buf, int64(x.Arity), 10)
	case Elided:
		p.str("...")
	default:
		p.str(fmt.Sprintf("#Go<%T>", t))
	}
}

func (p *printer) elems(l []Term, depth int) {
	for i, e := range l {
		if p.full() {
			return
		}
		if i > 0 {
			p.str(",")
		}
		p.term(e, depth+1)
	}
}

func (p *printer) bigInt(x *big.Int) {
	switch {
	case x == nil:
		p.str("#Go<*big.Int(nil)>")
	case x.BitLen() <= hexBits:
		p.buf = x.Append(p.buf, 10)
	default:
		if x.Sign() < 0 {
			p.str("-")
		}
		p.str("16#")
		p.str(strings.ToUpper(new(big.Int).Abs(x).Text(16)))
	}
}

// list prints a list: as a string when it is proper and all its elements
// are printable Latin-1 characters, else element by element.
func (p *printer) list(t Term, depth int) {
	if s, ok := t.(String); ok && printableString(s) {
		p.str(`"`)
		for i := 0; i < len(s) && !p.full(); i++ {
			p.char(rune(s[i]), '"')
		}
		p.str(`"`)
		return
	}
	if l, ok := t.(List); ok && len(l) > 0 && printableList(l) {
		p.str(`"`)
		for _, e := range l {
			if p.full() {
				break
			}
			p.char(rune(e.(int64)), '"')
		}
		p.str(`"`)
		return
	}
	if l, ok := t.(ImproperList); ok && len(l.Elems) == 0 {
		p.term(l.Tail, depth+1) // [|T] is T
		return
	}
	it, _ := newListIter(t)
	p.str("[")
	for i := 0; ; i++ {
		e, ok := it.next()
		if !ok || p.full() {
			break
		}
		if i > 0 {
			p.str(",")
		}
		p.term(e, depth+1)
	}
	if it.tail != nil {
		p.str("|")
		p.term(it.tail, depth+1)
	}
	p.str("]")
}

// printable reports whether c is printable in Erlang's default (Latin-1)
// printable range.
func printable(c rune) bool {
	return c >= 32 && c < 127 || c >= 160 && c < 256 || c >= '\b' && c <= '\r' || c == 27
}

func printableString(s String) bool {
	for i := 0; i < len(s); i++ {
		if !printable(rune(s[i])) {
			return false
		}
	}
	return len(s) > 0
}

func printableList(l List) bool {
	for _, e := range l {
		c, ok := e.(int64)
		if !ok || c < 0 || c > 255 || !printable(rune(c)) {
			return false
		}
	}
	return true
}

// char prints one character of a string quoted by q, escaped as Erlang
// does.
func (p *printer) char(c rune, q byte) {
	switch {
	case c == rune(q) || c == '\\':
		p.buf = append(p.buf, '\\', byte(c))
	case c >= 32 && c < 127 || c >= 160:
		p.buf = utf8.AppendRune(p.buf, c)
	case c == '\b':
		p.str(`\b`)
	case c == '\t':
		p.str(`\t`)
	case c == '\n':
		p.str(`\n`)
	case c == '\v':
		p.str(`\v`)
	case c == '\f':
		p.str(`\f`)
	case c == '\r':
		p.str(`\r`)
	case c == 27:
		p.str(`\e`)
	case c == 127:
		p.str(`\d`)
	case c < 0:
		p.str(`\x{FFFD}`)
	default:
		p.buf = append(p.buf, '\\', byte('0'+c>>6&7), byte('0'+c>>3&7), byte('0'+c&7))
	}
}

func (p *printer) atom(s string) {
	if !atomNeedsQuotes(s) {
		p.str(s)
		return
	}
	p.str("'")
	for _, c := range s {
		if p.full() {
			return
		}
		p.char(c, '\'')
	}
	p.str("'")
}

// reserved are the words that must be quoted to be atoms.
var reserved = map[string]bool{
	"after": true, "and": true, "andalso": true, "band": true, "begin": true,
	"bnot": true, "bor": true, "bsl": true, "bsr": true, "bxor": true,
	"case": true, "catch": true, "cond": true, "div": true, "end": true,
	"fun": true, "if": true, "let": true, "not": true, "of": true, "or": true,
	"orelse": true, "receive": true, "rem": true, "try": true, "when": true,
	"xor": true,
}

func atomNeedsQuotes(s string) bool {
	if s == "" || reserved[s] {
		return true
	}
	for i, c := range s {
		lower := c >= 'a' && c <= 'z' || c >= 0xDF && c <= 0xFF && c != 0xF7
		if i == 0 && !lower {
			return true
		}
		if !lower && !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '@' ||
			c >= 0xC0 && c <= 0xDE && c != 0xD7) {
			return true
		}
	}
	return false
}

// binary prints b as a string when it is printable, as UTF-8 (marked
// /utf8 unless ASCII) or else as Latin-1, and as its bytes otherwise.
func (p *printer) binary(b []byte) {
	if len(b) == 0 {
		p.str("<<>>")
		return
	}
	if utf8.Valid(b) {
		ok, wide := true, false
		for _, c := range string(b) {
			if !printable(c) {
				ok = false
				break
			}
			wide = wide || c >= utf8.RuneSelf
		}
		if ok {
			p.str(`<<"`)
			for _, c := range string(b) {
				if p.full() {
					return
				}
				p.char(c, '"')
			}
			p.str(`"`)
			if wide {
				p.str("/utf8")
			}
			p.str(">>")
			return
		}
	} else if printableBytes(b) {
		p.str(`<<"`)
		for _, c := range b {
			if p.full() {
				return
			}
			p.char(rune(c), '"')
		}
		p.str(`">>`)
		return
	}
	p.str("<<")
	p.bytes(b)
	p.str(">>")
}

func printableBytes(b []byte) bool {
	for _, c := range b {
		if !printable(rune(c)) {
			return false
		}
	}
	return true
}

func (p *printer) bytes(b []byte) {
	for i, c := range b {
		if p.full() {
			return
		}
		if i > 0 {
			p.str(",")
		}
		p.uint(uint64(c))
	}
}

func (p *printer) bitBinary(b BitBinary) {
	if len(b.Bytes) == 0 {
		p.str("<<>>")
		return
	}
	bits := min(max(b.Bits, 1), 8)
	n := len(b.Bytes) - 1
	p.str("<<")
	p.bytes(b.Bytes[:n])
	if n > 0 {
		p.str(",")
	}
	p.uint(uint64(b.Bytes[n] >> (8 - bits)))
	if bits < 8 {
		p.str(":")
		p.uint(uint64(bits))
	}
	p.str(">>")
}

// funIDs returns the index and uniq that Erlang prints for a fun: the old
// index and old uniq of NEW_FUN_EXT, or those of FUN_EXT.
func funIDs(raw []byte) (index, uniq int64, ok bool) {
	d := &decoder{b: raw, maxDepth: defaultMaxDepth}
	tag, err := d.u8(0, "tag")
	if err != nil {
		return 0, 0, false
	}
	switch tag {
	case tagNewFun:
		// size, arity, uniq, index, number of free variables
		if _, err := d.next(4+1+16+4+4, 0, ""); err != nil {
			return 0, 0, false
		}
		if _, err := d.atom(""); err != nil {
			return 0, 0, false
		}
	case tagFun:
		if _, err := d.next(4, 0, ""); err != nil {
			return 0, 0, false
		}
		if _, err := d.term(); err != nil {
			return 0, 0, false
		}
		if _, err := d.atom(""); err != nil {
			return 0, 0, false
		}
	default:
		return 0, 0, false
	}
	i, err := d.term()
	if err != nil {
		return 0, 0, false
	}
	u, err := d.term()
	if err != nil {
		return 0, 0, false
	}
	index, ok = i.(int64)
	uniq, ok2 := u.(int64)
	return index, uniq, ok && ok2
}

// appendFloat prints f as Erlang does: the shortest digits that read back
// as f, in fixed notation unless the exponent form is shorter or |f| is
// at least 2^53 (io_lib_format:fwrite_g/1 in OTP 25).
func appendFloat(buf []byte, f float64) []byte {
	if math.Signbit(f) {
		buf = append(buf, '-')
		f = -f
	}
	if f == 0 {
		return append(buf, "0.0"...)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.AppendFloat(buf, f, 'g', -1, 64)
	}
	// "d.ddde±x": digits s, with the decimal point after place of them.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(e, "e")
	s := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	place := x + 1
	l := len(s)
	expForm := func() []byte {
		buf = append(buf, s[0], '.')
		if l == 1 {
			buf = append(buf, '0')
		} else {
			buf = append(buf, s[1:]...)
		}
		buf = append(buf, 'e')
		return strconv.AppendInt(buf, int64(x), 10)
	}
	switch {
	case place == 0:
		buf = append(buf, "0."...)
		return append(buf, s...)
	case place > 0 && place < l:
		buf = append(buf, s[:place]...)
		buf = append(buf, '.')
		return append(buf, s[place:]...)
	}
	expDot := 1
	if l == 1 {
		expDot = 2
	}
	expCost := len(strconv.Itoa(x)) + 1 + expDot
	if place < 0 {
		if 2-place > expCost {
			return expForm()
		}
		buf = append(buf, "0."...)
		buf = append(buf, strings.Repeat("0", -place)...)
		return append(buf, s...)
	}
	if place-l+2 > expCost || f >= 1<<53 {
		return expForm()
	}
	buf = append(buf, s...)
	buf = append(buf, strings.Repeat("0", place-l)...)
	return append(buf, ".0"...)
}
