package erltest

import (
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// Fixture nodes answer like a MongooseIM generation (test/fixtures: one
// directory per generation, plus common/ which every one needs).

var (
	fixtureMu  sync.Mutex
	fixtureOut string                // compiled fixtures, removed by Cleanup
	compiled   = map[string]string{} // fixture directory name -> code path
)

// fixturesDir is test/fixtures, found from this file's place in the
// repository, so that every test package finds it whatever its own
// directory.
func fixturesDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "fixtures")
}

// compileFixture compiles the fixture directory name (e.g. "mim-6.4.0")
// once per test binary and returns its code path.
func compileFixture(name string) (string, error) {
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if p, ok := compiled[name]; ok {
		return p, nil
	}
	if fixtureOut == "" {
		d, err := os.MkdirTemp("", "mim-fixtures")
		if err != nil {
			return "", err
		}
		fixtureOut = d
	}
	out := filepath.Join(fixtureOut, name)
	if err := Compile(filepath.Join(fixturesDir(), name), out); err != nil {
		return "", err
	}
	compiled[name] = out
	return out, nil
}

// StartFixture starts a node answering like the generation in the fixture
// directory gen. Start-up expressions in o.Eval run after fixture:start()
// (e.g. joining a cluster), before the node counts as started, and again
// on Restart.
func StartFixture(gen string, o Options) (*Node, error) {
	common, err := compileFixture("common")
	if err != nil {
		return nil, err
	}
	code, err := compileFixture(gen)
	if err != nil {
		return nil, err
	}
	o.Paths = append([]string{common, code}, o.Paths...)
	extra := ""
	if o.Eval != "" {
		extra = o.Eval + ", "
	}
	o.Eval = `fixture:start(), ` + extra + `io:format("fixture ready~n")`
	o.Ready = "fixture ready"
	return Start(o)
}

// StartFixtureT is StartFixture for a test: it fails the test if the node
// does not start, and stops the node when the test ends.
func StartFixtureT(t testing.TB, gen string, o Options) *Node {
	t.Helper()
	n, err := StartFixture(gen, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	return n
}

// removeCompiledFixtures deletes what compileFixture wrote (Cleanup).
func removeCompiledFixtures() {
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if fixtureOut != "" {
		os.RemoveAll(fixtureOut)
	}
	fixtureOut, compiled = "", map[string]string{}
}
