package program

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	if v := Version("v1.2.3"); v != "v1.2.3" {
		t.Errorf("Version(set) = %q", v)
	}
	if v := Version(""); v == "" {
		t.Error("Version(\"\") is empty")
	}
}

// TestNewLogger: JSON lines with a time, or text lines; messages under the
// level are not written; a level that is none is info.
func TestNewLogger(t *testing.T) {
	var b bytes.Buffer
	log := NewLogger("json", "warn", &b)
	log.Info("quiet")
	log.Warn("loud")
	var line map[string]any
	if err := json.Unmarshal(b.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON line: %v: %s", err, b.String())
	}
	if line["msg"] != "loud" || line["level"] != "warn" || line["time"] == nil {
		t.Errorf("JSON line %v", line)
	}
	b.Reset()
	log = NewLogger("text", "no-such-level", &b)
	log.Debug("hidden")
	log.Info("shown")
	if out := b.String(); strings.Contains(out, "hidden") || !strings.Contains(out, "INFO\tshown") {
		t.Errorf("text log %q, want the info line only, its level in capitals", out)
	}
}
