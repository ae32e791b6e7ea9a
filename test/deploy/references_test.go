package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// pathRef is a path of the repository as comments and docs write it: a
// top-level directory, then more, ending in a file name with an extension.
var pathRef = regexp.MustCompile(`\b((?:cmd|contract|dashboard|deploy|docs|etf|facts|inventory|metrics|node|observe|receiver|reporting|store|census|disclosure|test|internal)/[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.(?:go|erl|md|txt|json|sh|yml|yaml|sql|etf|toml|html|css|js))\b`)

// TestReferencesNameFilesOfTheRepository: every path a comment, a doc or
// a script names (cmd/..., docs/..., test/...) is a file of the
// repository, and none names a file outside it (../shared). A doc may
// name a file that is gone as what it was ("then `x.go`, now ...").
func TestReferencesNameFilesOfTheRepository(t *testing.T) {
	root := filepath.Join("..", "..")
	out, err := exec.Command("git", "-C", root, "ls-files").Output()
	if err != nil {
		t.Skipf("no git checkout: %v", err)
	}
	for _, f := range strings.Fields(string(out)) {
		switch filepath.Ext(f) {
		case ".go", ".erl", ".md", ".sh":
		default:
			continue
		}
		if f == "test/deploy/references_test.go" { // names what it looks for
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			continue // deleted in the working tree
		}
		for i, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, "shared/docs") || strings.Contains(line, "shared/fixtures") || strings.Contains(line, "../shared") {
				t.Errorf("%s:%d names a file outside the repository: %s", f, i+1, strings.TrimSpace(line))
			}
			for _, m := range pathRef.FindAllStringSubmatchIndex(line, -1) {
				ref := line[m[2]:m[3]]
				inside := m[2] > 0 && strings.ContainsAny(line[m[2]-1:m[2]], "/.-") // an absolute path, a container's
				longer := m[3] < len(line) && line[m[3]] == '.'                     // x.yml.tmpl
				if inside || longer || strings.Contains(line[:m[2]], "then `") {
					continue
				}
				if _, err := os.Stat(filepath.Join(root, ref)); err != nil {
					t.Errorf("%s:%d names %s, which is no file of the repository", f, i+1, ref)
				}
			}
		}
	}
}
