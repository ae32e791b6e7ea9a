package erltest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// Evals go through one control node: values come back printed with ~p,
// concurrently, errors as errors, and a restarted node is reached again.
func TestEvalThroughTheControlNode(t *testing.T) {
	Require(t)
	epmdMu.Lock()
	ownEPMD := epmdCmd == nil
	epmdMu.Unlock()
	n, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		n.Stop()
		stopControllers()
		epmdMu.Lock()
		idle := len(started) == 1 && started[0] == n
		epmdMu.Unlock()
		if ownEPMD && idle {
			Cleanup()
		}
	})
	eval := func(expr string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		return n.Eval(ctx, expr)
	}
	// An Eval that gives up while the control node starts does not stop
	// the start for the next one.
	stopControllers()
	short, cancelShort := context.WithTimeout(context.Background(), time.Millisecond)
	if _, err := n.Eval(short, "ok"); err == nil {
		t.Error("an Eval with 1 ms to wait for the control node's start succeeded")
	}
	cancelShort()
	if out, err := eval("X = 20, X * 2 + 2"); err != nil || out != "42" {
		t.Fatalf("got %q, %v", out, err)
	}
	if out, err := eval("node()"); err != nil || out != n.Name {
		t.Errorf("node() = %q, %v; want %s", out, err, n.Name)
	}
	if out, err := eval("lists:seq(1, 40)"); err != nil || !strings.Contains(out, "\n") || !strings.HasSuffix(out, "40]") {
		t.Errorf("a long answer keeps ~p's lines: %q, %v", out, err)
	}
	if _, err := eval("this is not erlang"); err == nil {
		t.Error("a syntax error gave no error")
	}
	var wg sync.WaitGroup
	start := time.Now()
	for i := range 20 {
		wg.Go(func() {
			if out, err := eval(fmt.Sprintf("timer:sleep(300), %d", i)); err != nil || out != fmt.Sprint(i) {
				t.Errorf("eval %d: %q, %v", i, out, err)
			}
		})
	}
	wg.Wait()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("20 concurrent evals of 300 ms took %v: they ran one after another", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := n.Eval(ctx, "timer:sleep(5000)"); err == nil {
		t.Error("an eval outlived its context")
	}
	if err := n.Restart(); err != nil {
		t.Fatal(err)
	}
	if out, err := eval("ok"); err != nil || out != "ok" {
		t.Errorf("after a restart: %q, %v", out, err)
	}
	if len(controllers) != 1 {
		t.Errorf("%d control nodes, want 1", len(controllers))
	}
}
