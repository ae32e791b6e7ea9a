package metrics

import (
	"strconv"
	"strings"
	"testing"

	"github.com/mim-metrics/mim-metrics/etf"
)

// unquoteErl reads back the string literal of an erlConst expression.
func unquoteErl(t *testing.T, expr string) []byte {
	t.Helper()
	const pre, post = `binary_to_term(list_to_binary("`, `"))`
	if !strings.HasPrefix(expr, pre) || !strings.HasSuffix(expr, post) {
		t.Fatalf("not an erlConst expression: %s", expr)
	}
	s := expr[len(pre) : len(expr)-len(post)]
	var out []byte
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && s[i+1] == 'x':
			end := strings.IndexByte(s[i:], '}')
			n, err := strconv.ParseUint(s[i+3:i+end], 16, 8)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, byte(n))
			i += end
		case s[i] == '\\':
			out = append(out, s[i+1])
			i++
		default:
			out = append(out, s[i])
		}
	}
	return out
}

func TestErlConstRoundTrips(t *testing.T) {
	terms := []etf.Term{
		etf.Atom("ok"),
		etf.Atom("$1"),
		atoms("a", "b\"c", `d\e`),
		etf.List{},
		tuple(etf.Atom("x"), int64(1), int64(255), int64(256), int64(-1), int64(100000)),
		mapOf(etf.Atom("module"), etf.Atom("ejabberd_cowboy"), etf.Atom("tls"), mapOf(etf.Atom("mode"), etf.Atom("$1"))),
		list(tuple(list(), list(etf.Atom("é")))),
		list(etf.String("xmpp_element_in_message_count"), etf.String("")),
	}
	for _, want := range terms {
		expr := erlConst(want)
		got, err := etf.Decode(unquoteErl(t, expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		// Integers decode as int64.
		norm := func(x etf.Term) string { return etf.Format(x) }
		if norm(got) != norm(want) {
			t.Errorf("%s decodes to %s, want %s", expr, norm(got), norm(want))
		}
	}
}
