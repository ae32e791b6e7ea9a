package contract

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/mim-metrics/mim-metrics/etf"
)

// The declarations of the metrics are attributes of the gathering's Erlang
// modules, -metric(#{...}). (see declare.go). This file reads them: the
// Erlang terms an attribute may hold (maps with atom keys, tuples, lists,
// atoms, strings and integers), nothing more, as the etf terms a node
// would send for them: etf.Map, etf.Tuple, etf.List, etf.Atom, int64, and
// a string as the list it is in Erlang (charlist).

// attributes returns the terms of every -name(Term). attribute of the
// Erlang source src, in order, each with its line.
func attributes(src, name string) ([]lineTerm, error) {
	var out []lineTerm
	prefix := "-" + name + "("
	for i := 0; ; {
		j := strings.Index(src[i:], prefix)
		if j < 0 {
			return out, nil
		}
		start := i + j
		line := strings.Count(src[:start], "\n") + 1
		if start > 0 && src[start-1] != '\n' {
			i = start + len(prefix)
			continue
		}
		p := &termParser{src: src, pos: start + len(prefix)}
		t, err := p.term()
		if err == nil {
			err = p.expect(")")
		}
		if err == nil {
			err = p.expect(".")
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: -%s attribute: %w", line, name, err)
		}
		out = append(out, lineTerm{line, t})
		i = p.pos
	}
}

// lineTerm is an attribute's term and the line it starts on.
type lineTerm struct {
	line int
	term etf.Term
}

type termParser struct {
	src string
	pos int
}

// skip passes over white space and comments.
func (p *termParser) skip() {
	for p.pos < len(p.src) {
		switch c := p.src[p.pos]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			p.pos++
		case c == '%':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		default:
			return
		}
	}
}

func (p *termParser) peek(s string) bool {
	p.skip()
	return strings.HasPrefix(p.src[p.pos:], s)
}

func (p *termParser) expect(s string) error {
	if !p.peek(s) {
		return fmt.Errorf("expected %q at %q", s, p.context())
	}
	p.pos += len(s)
	return nil
}

func (p *termParser) context() string {
	rest := p.src[p.pos:]
	if i := strings.IndexByte(rest, '\n'); i >= 0 {
		rest = rest[:i]
	}
	if len(rest) > 30 {
		rest = rest[:30]
	}
	return rest
}

func (p *termParser) term() (etf.Term, error) {
	p.skip()
	switch {
	case p.peek("#{"):
		p.pos += 2
		m := etf.Map{}
		err := p.sequence("}", func() error {
			key, err := p.term()
			if err != nil {
				return err
			}
			k, ok := key.(etf.Atom)
			if !ok {
				return fmt.Errorf("a map key must be an atom, not %s", etf.Format(key))
			}
			if _, dup := m.GetAtom(string(k)); dup {
				return fmt.Errorf("key %s given twice", k)
			}
			if err := p.expect("=>"); err != nil {
				return err
			}
			v, err := p.term()
			m = append(m, etf.MapPair{Key: k, Value: v})
			return err
		})
		return m, err
	case p.peek("{"):
		p.pos++
		t := etf.Tuple{}
		err := p.sequence("}", func() error {
			v, err := p.term()
			t = append(t, v)
			return err
		})
		return t, err
	case p.peek("["):
		p.pos++
		l := etf.List{}
		err := p.sequence("]", func() error {
			v, err := p.term()
			l = append(l, v)
			return err
		})
		return l, err
	case p.peek(`"`):
		// Adjacent strings are one, as in Erlang.
		var text strings.Builder
		for p.peek(`"`) {
			s, err := p.quoted('"')
			if err != nil {
				return nil, err
			}
			text.WriteString(s)
		}
		return charlist(text.String()), nil
	case p.peek("'"):
		s, err := p.quoted('\'')
		return etf.Atom(s), err
	}
	start := p.pos
	negative := p.peek("-")
	if negative {
		p.pos++
	}
	for p.pos < len(p.src) && (isWordByte(p.src[p.pos])) {
		p.pos++
	}
	word := p.src[start:p.pos]
	switch {
	case word == "" || word == "-":
		return nil, fmt.Errorf("expected a term at %q", p.context())
	case negative || unicode.IsDigit(rune(word[0])):
		n, err := strconv.ParseInt(word, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad integer %q", word)
		}
		return n, nil
	case unicode.IsLower(rune(word[0])):
		return etf.Atom(word), nil
	}
	return nil, fmt.Errorf("%q: a declaration holds no variables", word)
}

// charlist is the Erlang string s (UTF-8 source text) as the list of
// code points it is, kept as an etf.String when they all fit in a byte,
// as term_to_binary sends it; etf.Text gives the text back.
func charlist(s string) etf.Term {
	runes := []rune(s)
	latin1 := make([]byte, 0, len(runes))
	for _, r := range runes {
		if r > 0xFF {
			l := make(etf.List, len(runes))
			for i, r := range runes {
				l[i] = int64(r)
			}
			return l
		}
		latin1 = append(latin1, byte(r))
	}
	return etf.String(latin1)
}

func isWordByte(c byte) bool {
	return c == '_' || c == '@' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// sequence parses comma-separated elements up to end.
func (p *termParser) sequence(end string, element func() error) error {
	if p.peek(end) {
		p.pos += len(end)
		return nil
	}
	for {
		if err := element(); err != nil {
			return err
		}
		if p.peek(end) {
			p.pos += len(end)
			return nil
		}
		if err := p.expect(","); err != nil {
			return err
		}
	}
}

// quoted parses a string or quoted atom (escapes \\, \", \' and \n).
func (p *termParser) quoted(q byte) (string, error) {
	var b strings.Builder
	for p.pos++; p.pos < len(p.src); p.pos++ {
		c := p.src[p.pos]
		switch {
		case c == q:
			p.pos++
			return b.String(), nil
		case c == '\\' && p.pos+1 < len(p.src):
			p.pos++
			switch e := p.src[p.pos]; e {
			case 'n':
				b.WriteByte('\n')
			case '\\', '"', '\'':
				b.WriteByte(e)
			default:
				return "", fmt.Errorf(`unsupported escape \%c`, e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("unterminated %c", q)
}
