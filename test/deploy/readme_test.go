package deploy_test

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mim-metrics/mim-metrics/contract"
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

// update rewrites the README's generated parts: go test ./test/deploy -run TestReadmeWhatIsSent -update
var update = flag.Bool("update", false, "rewrite the README's \"What is sent\" table from the declared metrics")

// whatIsSentHeader starts the "What is sent" table; the rows after it, up
// to the first blank line, are made from contract.Catalog.
const whatIsSentHeader = "| event | params | meaning |\n|---|---|---|\n"

// whatIsSentRows is the table the declared metrics give: one row per
// event, in a report's order.
func whatIsSentRows() string {
	var b strings.Builder
	for _, e := range contract.Catalog() {
		params := make([]string, len(e.Params))
		for i, p := range e.Params {
			params[i] = "`" + p + "`"
		}
		cell := strings.Join(params, ", ")
		if e.Flags {
			cell = "one of " + cell + " per enabled item, value `enabled`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", e.Name, cell, e.Doc)
	}
	return b.String()
}

// TestReadmeWhatIsSent: the "What is sent" table is the one the declared
// metrics give (contract.Catalog): every event and param the code can
// produce, and nothing else. -update rewrites it.
func TestReadmeWhatIsSent(t *testing.T) {
	doc := readme(t)
	i := strings.Index(doc, whatIsSentHeader)
	if i < 0 || !strings.Contains(section(t, doc, "What is sent"), whatIsSentHeader) {
		t.Fatalf("README's What is sent has no table starting %q", whatIsSentHeader)
	}
	start := i + len(whatIsSentHeader)
	end := start + strings.Index(doc[start:], "\n\n") + 1
	want := whatIsSentRows()
	if *update {
		if err := os.WriteFile(filepath.Join(root, "README.md"), []byte(doc[:start]+want+doc[end:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got := doc[start:end]; got != want {
		t.Errorf("README's What is sent table is not the declared metrics' (go test ./test/deploy -run TestReadmeWhatIsSent -update rewrites it):\n got:\n%s\nwant:\n%s", got, want)
	}
}
