package erltest

import (
	"fmt"
	"os"
	"testing"
)

// missing is what a run without Erlang says. Under CI=true it is a
// failure (.ci/run installs erlang-base, so a missing erl is a broken
// machine, not a reason to pass); elsewhere the Erlang tests are skipped.
const missing = "erl, erlc or epmd missing: CI must install erlang-base"

// RequireForMain is called first in a TestMain whose tests all need
// Erlang: without erl, erlc and epmd it exits, 1 under CI=true, else 0
// (the package is skipped).
func RequireForMain() {
	if Available() {
		return
	}
	if os.Getenv("CI") == "true" {
		fmt.Fprintln(os.Stderr, missing)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "skipping: erl not installed")
	os.Exit(0)
}

// Require fails t under CI=true, and skips it elsewhere, when erl, erlc
// or epmd is missing.
func Require(t testing.TB) {
	t.Helper()
	if Available() {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(missing)
	}
	t.Skip("erl not installed")
}
