package erltest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
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

// FixturesDir is test/fixtures, for a test or a benchmark that reads its
// files (expected.json) itself.
func FixturesDir() string { return fixturesDir() }

// Generations lists the MongooseIM generation fixtures, the directories
// mim-X.Y.Z of test/fixtures, oldest first: the one list every test,
// benchmark and document uses (a new directory is a new generation).
func Generations() ([]string, error) {
	dirs, err := filepath.Glob(filepath.Join(fixturesDir(), "mim-*"))
	if err != nil {
		return nil, err
	}
	type gen struct {
		name string
		v    [3]int
	}
	var gens []gen
	for _, d := range dirs {
		name := filepath.Base(d)
		parts := strings.Split(strings.TrimPrefix(name, "mim-"), ".")
		g := gen{name: name}
		for i := range g.v {
			if len(parts) != 3 {
				return nil, fmt.Errorf("test/fixtures/%s: want a directory named mim-X.Y.Z", name)
			}
			if g.v[i], err = strconv.Atoi(parts[i]); err != nil {
				return nil, fmt.Errorf("test/fixtures/%s: want a directory named mim-X.Y.Z", name)
			}
		}
		gens = append(gens, g)
	}
	if len(gens) == 0 {
		return nil, fmt.Errorf("no generation fixtures (mim-X.Y.Z) under %s", fixturesDir())
	}
	slices.SortFunc(gens, func(a, b gen) int { return slices.Compare(a.v[:], b.v[:]) })
	names := make([]string, len(gens))
	for i, g := range gens {
		names[i] = g.name
	}
	return names, nil
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
