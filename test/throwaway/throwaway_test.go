// Package throwaway_test follows docs/adding-a-metric.md with a metric of
// its own, in a copy of the repository: it makes the guide's hand edits,
// regenerates the goldens with the guide's commands, checks that nothing
// else had to change, and then, in the copy, sends the reports the new
// golden holds through the receiver and reads the new metric's chart from
// the dashboard's API.
package throwaway_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/test/erltest"
)

// inCopy is set in the environment of the tests run in the copy.
const inCopy = "MIM_THROWAWAY_IN_COPY"

// The throw-away metric: the largest queue a client's process may have.
const (
	metric     = "max_fsm_queue"
	chartID    = "max-fsm-queue"
	generation = "mim-6.6.0"
)

// edit is one hand edit of the guide: in file, the text old (there once)
// becomes new.
type edit struct {
	file, old, new string
}

// insert is an edit that puts text before the line that starts with anchor.
func insert(file, anchor, text string) edit { return edit{file, "\n" + anchor, "\n" + text + anchor} }

// edits are the guide's hand edits for the throw-away metric, as
// docs/adding-a-metric.md ("A new metric") lists them.
var edits = []edit{
	insert("contract/erl/mim_metrics_mongooseim.erl", "-metric(#{event => xmpp_stanza_count,",
		`-metric(#{event => max_fsm_queue, doc => "the largest message queue a client's process may have",
          params => [value], numbers => [{value, 0, 100000000}],
          fields => [{max_fsm_queue, [quick, {since, {6, 6, 0}}]}], events => count, dimension => max_fsm_queue}).
`),
	insert("contract/erl/mim_metrics_mongooseim.erl", "metric(stanzas,",
		`metric(max_fsm_queue, _Ctx) ->
    mongoose_config:get_opt(max_fsm_queue);
`),
	{"test/fixtures/" + generation + "/mim_6_6_0.erl",
		"opts := (maps:get(opts, C))#{instrumentation := #{prometheus => #{}, log => #{level => info}}}}.",
		"opts := (maps:get(opts, C))#{instrumentation := #{prometheus => #{}, log => #{level => info}},\n" +
			"                                    max_fsm_queue => 1000}}."},
	insert("dashboard/charts.go", `	{ID: "stanzas", Page: TrafficPage,`,
		`	{ID: "max-fsm-queue", Page: ShapePage, Title: "Largest client queue", Dimension: "max_fsm_queue", Kind: Shares},
`),
}

// goldens are the files the guide's commands regenerate.
var goldens = []string{"test/fixtures/" + generation + "/expected.json", "README.md"}

func TestThrowawayMetric(t *testing.T) {
	if os.Getenv(inCopy) != "" {
		t.Skip("this is the copy")
	}
	erltest.Require(t)
	root := moduleRoot(t)
	checkGuideNames(t, root)
	dir := copyRepository(t, root)
	for _, e := range edits {
		apply(t, dir, e)
	}
	// The guide's commands regenerate the goldens.
	goTest(t, dir, nil, "./test/collect", "-run", "TestGenerations/"+generation+"$", "-update")
	goTest(t, dir, nil, "./test/deploy", "-run", "TestReadmeWhatIsSent", "-update")

	// Only the hand-edited files and the goldens changed, and the golden
	// report holds one more event, the new one.
	var want []string
	for _, e := range edits {
		want = append(want, e.file)
	}
	want = append(want, goldens...)
	slices.Sort(want)
	if got := changedFiles(t, root, dir); !slices.Equal(got, slices.Compact(want)) {
		t.Errorf("changed files: %v, want %v (the guide's hand edits and goldens)", got, want)
	}
	added := addedLines(t, filepath.Join(root, goldens[0]), filepath.Join(dir, goldens[0]))
	if len(added) != 1 || !strings.Contains(added[0], `{"name": "`+metric+`", "params": {"value": 1000}}`) {
		t.Errorf("%s: added lines %q, want the one event of %s", goldens[0], added, metric)
	}
	if added := addedLines(t, filepath.Join(root, "README.md"), filepath.Join(dir, "README.md")); len(added) != 1 || !strings.Contains(added[0], metric) {
		t.Errorf("README.md: added lines %q, want the row of %s", added, metric)
	}

	// The copy's own tests of the declarations still pass, and its
	// receiver draws the metric (TestInCopy).
	goTest(t, dir, nil, "./contract", "./facts")
	goTest(t, dir, []string{inCopy + "=1"}, "./test/throwaway", "-run", "TestInCopy", "-v")
}

// checkGuideNames: the guide names the files of edits as the ones edited
// by hand, and the goldens.
func checkGuideNames(t *testing.T, root string) {
	guide, err := os.ReadFile(filepath.Join(root, "docs", "adding-a-metric.md"))
	if err != nil {
		t.Fatal(err)
	}
	section := string(guide)
	if i := strings.Index(section, "## A new metric"); i >= 0 {
		section = section[i:]
	}
	if i := strings.Index(section[3:], "\n## "); i >= 0 {
		section = section[:i+3]
	}
	for _, e := range edits {
		if !strings.Contains(section, "`"+e.file+"`") && !strings.Contains(section, "`"+strings.TrimPrefix(e.file, "test/fixtures/")+"`") {
			t.Errorf("docs/adding-a-metric.md's \"A new metric\" does not name %s", e.file)
		}
	}
	for _, g := range goldens {
		if !strings.Contains(section, filepath.Base(g)) {
			t.Errorf("docs/adding-a-metric.md's \"A new metric\" does not name the golden %s", g)
		}
	}
	if !regexp.MustCompile(`(?i)three\s+files\s+by\s+hand`).MatchString(section) {
		t.Errorf("docs/adding-a-metric.md's \"A new metric\" does not say how many files are edited by hand (three)")
	}
}

// moduleRoot is the repository's root (the module's directory).
func moduleRoot(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// trackedFiles lists the repository's files (git's, or every file when it
// is no git checkout).
func trackedFiles(t *testing.T, root string) []string {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	var files []string
	for _, f := range strings.Split(string(out), "\x00") {
		if f == "" {
			continue
		}
		if st, err := os.Lstat(filepath.Join(root, f)); err == nil && st.Mode().IsRegular() {
			files = append(files, f)
		}
	}
	return files
}

// copyRepository copies the repository's files into a new directory.
func copyRepository(t *testing.T, root string) string {
	dir := filepath.Join(t.TempDir(), "repo")
	for _, f := range trackedFiles(t, root) {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		st, _ := os.Stat(filepath.Join(root, f))
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, st.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// apply makes one edit in the copy.
func apply(t *testing.T, dir string, e edit) {
	path := filepath.Join(dir, e.file)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), e.old); n != 1 {
		t.Fatalf("%s: %q is there %d times, not once: the guide's edit no longer fits; follow docs/adding-a-metric.md and mend edits", e.file, e.old, n)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), e.old, e.new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// goTest runs go test in the copy, with env added.
func goTest(t *testing.T, dir string, env []string, args ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", append([]string{"test", "-count=1"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("in the copy, go test %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	t.Logf("in the copy, go test %s:\n%s", strings.Join(args, " "), lastLines(out.String(), 15))
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// changedFiles lists the files of the copy that differ from the
// repository's, or that only the copy has.
func changedFiles(t *testing.T, root, dir string) []string {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		a, errA := os.ReadFile(filepath.Join(root, rel))
		b, errB := os.ReadFile(path)
		if errB != nil {
			return errB
		}
		if errA != nil || sha256.Sum256(a) != sha256.Sum256(b) {
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// addedLines are the lines of file b that file a does not have.
func addedLines(t *testing.T, a, b string) []string {
	da, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]int{}
	for _, l := range strings.Split(string(da), "\n") {
		have[l]++
	}
	var out []string
	for _, l := range strings.Split(string(db), "\n") {
		if have[l] > 0 {
			have[l]--
			continue
		}
		out = append(out, l)
	}
	return out
}
