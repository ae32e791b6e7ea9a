package node

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/etf"
	"github.com/mim-metrics/mim-metrics/test/erltest"
)

// The evaluator's expressions pass erlc with warnings as errors, compiled
// as the body of a function of their input variables.
func TestEvaluatorLints(t *testing.T) {
	erltest.Require(t)
	dir := t.TempDir()
	for name, c := range map[string]struct{ vars, body string }{
		"mim_prepare": {"Files, Main, Run, Bs", prepareExprs},
		"mim_run":     {"Functions, Main", runExprs},
	} {
		src := "-module(" + name + ").\n-export([f/" + string(rune('0'+strings.Count(c.vars, ",")+1)) + "]).\nf(" + c.vars + ") ->\n" +
			strings.TrimSuffix(strings.TrimSpace(c.body), ".") + ".\n"
		file := filepath.Join(dir, name+".erl")
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("erlc", "+warnings_as_errors", "-o", dir, file).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", name, err, out)
		}
	}
}

// The members module passes erlc with warnings as errors, as the
// gathering's modules do.
func TestMembersModuleCompiles(t *testing.T) {
	erltest.Require(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "mim_metrics_members.erl")
	if err := os.WriteFile(file, []byte(membersModule), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("erlc", "+warnings_as_errors", "-o", dir, file).CombinedOutput(); err != nil {
		t.Errorf("erlc mim_metrics_members.erl: %v\n%s", err, out)
	}
}

// programFiles are two modules calling each other, with local funs, a
// function of several clauses, and types and specs (read and skipped).
var programFiles = []string{`-module(prog_a).
-export([double_all/1]).
-export_type([element/0]).
-type element() :: integer() | term().
%% Doubles every element.
-spec double_all([element()]) -> list().
double_all(L) -> lists:map(fun double/1, L) ++ prog_b:tail().
-spec double(element()) -> integer() | {not_an_integer, term()}.
double(X) when is_integer(X) -> 2 * X;
double(X) -> {not_an_integer, X}.
`, `-module(prog_b).
-export([tail/0, fact/1]).
tail() -> [fact(5)].
fact(0) -> 1;
fact(N) -> N * fact(N - 1).
`}

// A program's functions are interpreted with nothing loaded, the same on
// the first evaluation (text) and the next (prepared), and the prepared
// program is kept per OTP release.
func TestProgram(t *testing.T) {
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
	src := `{prog_a:double_all(L), code:is_loaded(prog_a), code:is_loaded(prog_b)}.`
	want := etf.Tuple{etf.List{int64(2), etf.Tuple{etf.Atom("not_an_integer"), etf.Atom("x")}, int64(120)}, etf.Atom("false"), etf.Atom("false")}
	for i := 0; i < 2; i++ {
		got, err := c.EvalProgram(ctx, n.Name, programFiles, src, map[string]any{"L": etf.List{int64(1), etf.Atom("x")}})
		if err != nil || !etf.Equal(got, want) {
			t.Fatalf("evaluation %d: got %s, %v; want %s", i+1, etf.Format(got), err, etf.Format(want))
		}
	}
	c.formsMu.Lock()
	release := c.releases[n.Name]
	forms := len(c.forms)
	c.formsMu.Unlock()
	if release == "" || forms != 1 {
		t.Errorf("release %q, %d prepared programs; want the node's release and 1", release, forms)
	}
	if s := c.Stats(n.Name); s.Calls != 2 {
		t.Errorf("%d calls, want 2", s.Calls)
	}
	// An unknown function fails the evaluation, not the connection.
	if _, err := c.EvalProgram(ctx, n.Name, programFiles, `prog_b:nope().`, nil); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown function: %v", err)
	}
	// A program prepared on another release is not used for this node.
	c.formsMu.Lock()
	c.releases[n.Name] = "0"
	c.formsMu.Unlock()
	if got, err := c.EvalProgram(ctx, n.Name, programFiles, src, map[string]any{"L": etf.List{int64(1), etf.Atom("x")}}); err != nil || !etf.Equal(got, want) {
		t.Fatalf("after a release change: %s, %v", etf.Format(got), err)
	}
	c.formsMu.Lock()
	release, forms = c.releases[n.Name], len(c.forms)
	c.formsMu.Unlock()
	if release == "0" || forms != 2 {
		t.Errorf("after a release change: release %q, %d prepared programs; want the node's release and 2 (this one, the failing one)", release, forms)
	}
}
