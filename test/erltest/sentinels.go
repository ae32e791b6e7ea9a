package erltest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Sentinels returns the private strings planted in the fixtures of
// fixturesDir (its sentinels.txt: one per line, # comments): host names,
// users and custom module names that no report may ever contain.
func Sentinels(fixturesDir string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(fixturesDir, "sentinels.txt"))
	if err != nil {
		return nil, fmt.Errorf("fixture sentinels: %w", err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	if len(out) < 3 {
		return nil, fmt.Errorf("fixture sentinels: only %d in %s", len(out), filepath.Join(fixturesDir, "sentinels.txt"))
	}
	return out, nil
}
