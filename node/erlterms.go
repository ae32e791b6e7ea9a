package node

import (
	"fmt"
	"strconv"
	"strings"
)

// The terms of an ssl_dist_optfile, as file:consult reads them: lists,
// tuples, atoms, strings, binaries of a string and integers, nothing more.

// termAtom is an atom of the file; a string or a binary is a Go string.
type termAtom string

// termTuple is a tuple of the file; a list is a []any.
type termTuple []any

// consultTerms reads the terms of src, each ending with a full stop.
func consultTerms(src string) ([]any, error) {
	p := &termReader{src: src}
	var out []any
	for {
		p.skip()
		if p.pos >= len(p.src) {
			return out, nil
		}
		t, err := p.term()
		if err != nil {
			return nil, err
		}
		if err := p.expect("."); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
}

type termReader struct {
	src string
	pos int
}

// skip passes white space and % comments.
func (p *termReader) skip() {
	for p.pos < len(p.src) {
		switch c := p.src[p.pos]; {
		case c == '%':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *termReader) line() int { return strings.Count(p.src[:p.pos], "\n") + 1 }

func (p *termReader) errorf(format string, args ...any) error {
	return fmt.Errorf("line %d: %s", p.line(), fmt.Sprintf(format, args...))
}

func (p *termReader) expect(s string) error {
	p.skip()
	if !strings.HasPrefix(p.src[p.pos:], s) {
		return p.errorf("expected %q", s)
	}
	p.pos += len(s)
	return nil
}

// maxTermDepth bounds nesting: the file holds a list of tuples of lists.
const maxTermDepth = 16

func (p *termReader) term() (any, error) { return p.termDepth(0) }

func (p *termReader) termDepth(depth int) (any, error) {
	if depth > maxTermDepth {
		return nil, p.errorf("terms nested deeper than %d", maxTermDepth)
	}
	p.skip()
	if p.pos >= len(p.src) {
		return nil, p.errorf("unexpected end of file")
	}
	switch c := p.src[p.pos]; {
	case c == '[':
		p.pos++
		elems, err := p.sequence("]", depth)
		return elems, err
	case c == '{':
		p.pos++
		elems, err := p.sequence("}", depth)
		return termTuple(elems), err
	case c == '"':
		return p.quoted('"')
	case c == '\'':
		s, err := p.quoted('\'')
		return termAtom(s), err
	case strings.HasPrefix(p.src[p.pos:], "<<"):
		p.pos += 2
		p.skip()
		s, err := p.quoted('"')
		if err != nil {
			return nil, err
		}
		return s, p.expect(">>")
	case c == '-' || c >= '0' && c <= '9':
		start := p.pos
		p.pos++
		for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
			p.pos++
		}
		n, err := strconv.Atoi(p.src[start:p.pos])
		if err != nil {
			return nil, p.errorf("bad integer %q", p.src[start:p.pos])
		}
		return n, nil
	case c >= 'a' && c <= 'z':
		start := p.pos
		for p.pos < len(p.src) && isAtomByte(p.src[p.pos]) {
			p.pos++
		}
		return termAtom(p.src[start:p.pos]), nil
	}
	return nil, p.errorf("unexpected %q (only lists, tuples, atoms, strings and integers)", p.src[p.pos])
}

func isAtomByte(c byte) bool {
	return c == '_' || c == '@' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// sequence reads elements separated by commas up to end.
func (p *termReader) sequence(end string, depth int) ([]any, error) {
	out := []any{}
	p.skip()
	if strings.HasPrefix(p.src[p.pos:], end) {
		p.pos += len(end)
		return out, nil
	}
	for {
		t, err := p.termDepth(depth + 1)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		p.skip()
		if strings.HasPrefix(p.src[p.pos:], ",") {
			p.pos++
			continue
		}
		return out, p.expect(end)
	}
}

// quoted reads a string or a quoted atom with Erlang's common escapes.
func (p *termReader) quoted(q byte) (string, error) {
	p.pos++ // the opening quote
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		p.pos++
		switch {
		case c == q:
			return b.String(), nil
		case c == '\\' && p.pos < len(p.src):
			e := p.src[p.pos]
			p.pos++
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 's':
				b.WriteByte(' ')
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", p.errorf("unterminated %c", q)
}
