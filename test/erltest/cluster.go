package erltest

import (
	"fmt"
	"testing"
)

// TwoNodes says how to start a two-node fixture cluster.
type TwoNodes struct {
	// Cookie is both nodes' cookie; RandomCookie() when empty.
	Cookie string
	// A and B are each node's own options (their Cookie is ignored).
	A, B Options
	// Join is what B evaluates when it starts (and restarts), before its
	// own Eval, to join the node named a: JoinByPing when nil.
	Join func(a string) string
}

// JoinByPing connects to the node named a, as a node joining a cluster
// over the distribution does.
func JoinByPing(a string) string { return "pong = net_adm:ping('" + a + "')" }

// JoinMnesia joins the Mnesia cluster of the node named a (whose Mnesia
// runs), as mongooseimctl join_cluster does.
func JoinMnesia(a string) string {
	return "ok = mnesia:start(), {ok, [_]} = mnesia:change_config(extra_db_nodes, ['" + a + "'])"
}

// StartTwoNodes starts two nodes of the fixture generation gen, A then B,
// B joined to A. The caller stops them (Cleanup stops them too).
func StartTwoNodes(gen string, o TwoNodes) (a, b *Node, err error) {
	if o.Cookie == "" {
		o.Cookie = RandomCookie()
	}
	join := o.Join
	if join == nil {
		join = JoinByPing
	}
	o.A.Cookie, o.B.Cookie = o.Cookie, o.Cookie
	if a, err = StartFixture(gen, o.A); err != nil {
		return nil, nil, err
	}
	o.B.Eval = join(a.Name) + joinEval(o.B.Eval)
	if b, err = StartFixture(gen, o.B); err != nil {
		a.Stop()
		return nil, nil, fmt.Errorf("the second node of a two-node cluster: %w", err)
	}
	return a, b, nil
}

// StartTwoNodesT is StartTwoNodes for a test: it fails the test if a node
// does not start, and stops both when the test ends.
func StartTwoNodesT(t testing.TB, gen string, o TwoNodes) (a, b *Node) {
	t.Helper()
	a, b, err := StartTwoNodes(gen, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Stop)
	t.Cleanup(a.Stop)
	return a, b
}

// joinEval is eval as more expressions after others: ", eval", or nothing.
func joinEval(eval string) string {
	if eval == "" {
		return ""
	}
	return ", " + eval
}
