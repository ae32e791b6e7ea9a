package node

import (
	"context"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/etf"
	"github.com/mim-metrics/mim-metrics/test/erltest"
)

// preparedSrc uses what preparing rewrites: spawn_eval, rarely, scope,
// remote calls, and a constant written binary_to_term(list_to_binary("..."))
// (here {c, [1]}).
const preparedSrc = `Self = self(), X = 2,
spawn_eval(#{'Self' => Self, 'Y' => X + 1}, begin Self ! {got, Y, binary_to_term(list_to_binary("\x{83}h\x{2}w\x{1}cl\x{0}\x{0}\x{0}\x{1}a\x{1}j"))} end),
receive {got, Y, C} -> {X, Y, C, rarely(#{'X' => X}, lists:duplicate(X, erlang:element(1, {X}))), scope(#{'Y' => Y}, begin Z = Y * 2, Z + 1 end)} after 5000 -> timeout end.`

// A prepared source gives the same value as its first, parsed evaluation,
// with map bindings (OTP 25+, this node) and with the orddict bindings of
// older releases (MongooseIM 3.x runs on OTP 21 and 22), forced here by
// making the wrapper's and spawn_eval's check for map bindings fail.
func TestPreparedSourceOnBothBindingKinds(t *testing.T) {
	erltest.Require(t)
	defer erltest.Cleanup()
	n, err := erltest.Start(erltest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := Start(ctx, Options{Seeds: []string{n.Name}, Cookie: n.Cookie})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := etf.Tuple{int64(2), int64(3), etf.Tuple{etf.Atom("c"), etf.List{int64(1)}}, etf.List{int64(2), int64(2)}, int64(7)}
	for i, what := range []string{"parsed", "prepared"} {
		got, err := c.Eval(ctx, n.Name, preparedSrc, nil)
		if err != nil || !etf.Equal(got, want) {
			t.Fatalf("%s (evaluation %d): got %s, %v; want %s", what, i+1, etf.Format(got), err, etf.Format(want))
		}
	}
	c.formsMu.Lock()
	prepared := c.forms[preparedSrc]
	c.formsMu.Unlock()
	if prepared == nil {
		t.Fatal("the source was not kept prepared")
	}
	// The prepared form with every erl_eval:binding/2 call (the check for
	// map bindings, a call of the literal fun once prepared), in the form
	// and in the bodies it keeps encoded, replaced by the atom no, then
	// evaluated as runForm does. There are three checks: the wrapper's,
	// scope's, and the spawned body's (inside its encoded body).
	got, err := c.Eval(ctx, n.Name, `Binding = fun erl_eval:binding/2,
Checks = fun C({call, _, {string, _, Fun}, _}) when Fun =:= Binding -> 1;
                 C(T) when is_tuple(T) -> C(tuple_to_list(T));
                 C(L) when is_list(L) -> lists:sum([C(E) || E <- L]);
                 C(B) when is_binary(B) ->
                     case catch binary_to_term(B) of
                         Es when is_list(Es) -> C(Es);
                         _ -> 0
                     end;
                 C(_) -> 0
              end,
NoMap = fun F({call, A, {string, _, Fun}, _}) when Fun =:= Binding -> {atom, A, no};
                 F(T) when is_tuple(T) -> list_to_tuple(F(tuple_to_list(T)));
                 F(L) when is_list(L) -> [F(E) || E <- L];
                 F(B) when is_binary(B) ->
                     case catch binary_to_term(B) of
                         Es when is_list(Es) -> term_to_binary(F(Es));
                         _ -> B
                     end;
                 F(E) -> E
              end,
Wrapped = binary_to_term(P),
Forced = NoMap(Wrapped),
{Checks(Wrapped), Checks(Forced), binary_to_term(element(2, erl_eval:exprs(Forced, [{'Bs', []}], none, none)))}.`,
		map[string]any{"P": etf.Binary(prepared)})
	if err != nil {
		t.Fatal(err)
	}
	if !etf.Equal(got, etf.Tuple{int64(3), int64(0), etf.Tuple{etf.Atom("ok"), want}}) {
		t.Errorf("with orddict bindings: got %s, want {3, 0, {ok, %s}} (checks before and after forcing, answer)", etf.Format(got), etf.Format(want))
	}
}
