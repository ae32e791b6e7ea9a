package main

import (
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeFlagTable: the README's receiver section lists every flag with
// its environment variable and default, and nothing else.
func TestReadmeFlagTable(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i := strings.Index(doc, "\n## The receiver\n")
	if i < 0 {
		t.Fatal(`README has no section "The receiver"`)
	}
	section := doc[i+1:]
	if j := strings.Index(section[3:], "\n## "); j >= 0 {
		section = section[:j+3]
	}
	row := regexp.MustCompile("(?m)^\\| `--([a-z-]+)` \\| `([A-Z_]+)` \\|([^|]*)\\|")
	listed := map[string]bool{}
	c := &config{}
	fs := newFlagSet(c)
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		name, env, def := m[1], m[2], strings.Trim(strings.TrimSpace(m[3]), "`")
		listed[name] = true
		f := fs.Lookup(name)
		if f == nil {
			t.Errorf("README lists --%s, which the program does not have", name)
			continue
		}
		if env != envName(name) {
			t.Errorf("README: --%s's variable is %s, want %s", name, env, envName(name))
		}
		want := f.DefValue
		if want == "false" || name == "property" {
			want = ""
		}
		if name == "property" {
			def = ""
		}
		if def != want {
			t.Errorf("README: --%s's default is %q, want %q", name, def, want)
		}
	}
	fs.VisitAll(func(f *flag.Flag) {
		if !listed[f.Name] {
			t.Errorf("README's receiver flag table lacks --%s", f.Name)
		}
	})
}
