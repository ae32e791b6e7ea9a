package erltest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSentinels(t *testing.T) {
	t.Parallel()
	got, err := Sentinels("../fixtures")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range got {
		if s == "" || s[0] == '#' {
			t.Errorf("sentinel %q: blank lines and comments must be skipped", s)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sentinels.txt"), []byte("# only\na\n\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Sentinels(dir); err == nil {
		t.Error("two sentinels accepted; a fixture set this small cannot prove privacy")
	}
	if _, err := Sentinels(t.TempDir()); err == nil {
		t.Error("a missing sentinels.txt accepted")
	}
}
