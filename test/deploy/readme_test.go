package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/mim-metrics/mim-metrics/metrics"
)

func readme(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section returns the text of the README section with that heading.
func section(t *testing.T, doc, heading string) string {
	i := strings.Index(doc, "\n## "+heading+"\n")
	if i < 0 {
		t.Fatalf("README has no section %q", heading)
	}
	rest := doc[i+len(heading)+5:]
	if j := strings.Index(rest, "\n## "); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

var ticked = regexp.MustCompile("`([^`]+)`")

// TestReadmeCommands: the two commands a newcomer needs are near the top,
// and CI runs the README's test command.
func TestReadmeCommands(t *testing.T) {
	doc := readme(t)
	top := strings.Join(strings.SplitN(doc, "\n", 20)[:19], "\n")
	if !strings.Contains(top, "go run ./cmd/mim-metrics") || !strings.Contains(top, "./test/run.sh") {
		t.Errorf("the first lines of README.md lack the run and test commands:\n%s", top)
	}
	ci, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ci), "./test/run.sh") {
		t.Error(".ci/run does not call the README's test command ./test/run.sh")
	}
	if !strings.Contains(doc, "was **not run here**") {
		t.Error("README does not say the compose file was not run here")
	}
}

// TestReadmeFlagTable: the flag table lists exactly the program's flags,
// each with its environment variable.
func TestReadmeFlagTable(t *testing.T) {
	out, _ := exec.Command(bin, "--help").CombinedOutput()
	help := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^  --([a-z-]+)  \[(MIM_METRICS_[A-Z_]+)\]`).FindAllStringSubmatch(string(out), -1) {
		help[m[1]] = m[2]
	}
	table := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| `--([a-z-]+)` \\| `(MIM_METRICS_[A-Z_]+)` \\|").FindAllStringSubmatch(section(t, readme(t), "Flags"), -1) {
		table[m[1]] = m[2]
	}
	if len(help) < 10 {
		t.Fatalf("parsed only %d flags from --help", len(help))
	}
	for f, env := range help {
		if table[f] != env {
			t.Errorf("README flag table: --%s should be listed with %s, got %q", f, env, table[f])
		}
	}
	for f := range table {
		if _, ok := help[f]; !ok {
			t.Errorf("README lists --%s, which the program does not have", f)
		}
	}
}

// TestReadmeWhatIsSent: the "What is sent" table names exactly the events
// and params the code can produce (metrics.Catalog).
func TestReadmeWhatIsSent(t *testing.T) {
	doc := section(t, readme(t), "What is sent")
	got := map[string][]string{}
	for _, line := range strings.Split(doc, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			continue
		}
		name := ticked.FindStringSubmatch(cells[1])
		if name == nil {
			continue
		}
		var params []string
		for _, m := range ticked.FindAllStringSubmatch(cells[2], -1) {
			if m[1] != "enabled" {
				params = append(params, m[1])
			}
		}
		sort.Strings(params)
		got[name[1]] = params
	}
	want := map[string][]string{}
	for _, e := range metrics.Catalog() {
		p := append([]string(nil), e.Params...)
		sort.Strings(p)
		want[e.Name] = p
	}
	for name, params := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("README's What is sent does not list event %s", name)
			continue
		}
		if strings.Join(g, ",") != strings.Join(params, ",") {
			t.Errorf("README's %s params:\n got  %v\n want %v", name, g, params)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("README lists event %s, which the code never produces", name)
		}
	}
}
