package hostile_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fillDisk writes a file in dir until the file system is full; it returns
// the file's path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for range 10_000 { // at most 640 MB: the tmpfs is far smaller
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			for len(chunk) > 1 { // the last bytes
				chunk = chunk[:len(chunk)/2]
				_, _ = f.Write(chunk)
			}
			return path
		}
	}
	t.Fatal("the disk never filled")
	return ""
}

func healthz(t *testing.T, p *receiverProc) (int, string) {
	code, body, _ := p.do(t, "GET", "/healthz", "")
	return code, body
}

// TestFullDisk (finding 6): on a full disk (a small tmpfs) every ingest
// request gets 503, /healthz and /readyz say not ready, the log says so
// once (not once per request); when space is back, the receiver is ready
// again and says so once.
func TestFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	p := start(t, "sqlite:"+filepath.Join(dir, "r.db"))
	t.Cleanup(func() {
		p.Stop(t)
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	if code, body := p.collect(t, "disk-client", clusterEvent); code != 204 {
		t.Fatalf("before the disk is full: %d %s", code, body)
	}
	filler := fillDisk(t, dir)
	refused := 0
	for i := range 300 {
		code, _ := p.collect(t, "disk-client-"+string(rune('a'+i%26))+strings.Repeat("x", i%50), clusterEvent)
		if code == 503 {
			refused++
		} else if code != 204 {
			t.Fatalf("on a full disk: %d, want 503 (or 204 while the WAL has room)", code)
		}
	}
	if refused < 100 {
		t.Fatalf("only %d of 300 requests refused on a full disk", refused)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		code, body, _ := p.do(t, "GET", path, "")
		if code != 503 || !strings.Contains(body, "not ready") {
			t.Errorf("%s on a full disk: %d %q, want 503 not ready", path, code, body)
		}
	}
	if n := p.logLines("the store refuses writes"); n != 1 {
		t.Errorf("%d log lines for %d refused requests, want 1", n, refused)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if !waitFor(30*time.Second, func() bool { code, _ := p.collect(t, "disk-client", clusterEvent); return code == 204 }) {
		t.Fatal("the receiver still refuses after space is back")
	}
	if code, body := healthz(t, p); code != 200 {
		t.Errorf("/healthz once space is back: %d %s", code, body)
	}
	if n := p.logLines("the store takes writes again"); n != 1 {
		t.Errorf("%d log lines for the end of the outage, want 1", n)
	}
}

// TestDatabaseOutageLogs (finding 6): PostgreSQL stopped while requests
// come: 503s, one log line when it starts, one when it ends, none per
// request.
func TestDatabaseOutageLogs(t *testing.T) {
	dsn := pg.NewDatabase(t)
	p := start(t, dsn)
	if code, body := p.collect(t, "outage-client", clusterEvent); code != 204 {
		t.Fatalf("before the outage: %d %s", code, body)
	}
	if err := pg.Pause(); err != nil {
		t.Fatal(err)
	}
	resumed := false
	t.Cleanup(func() {
		if !resumed {
			_ = pg.Resume()
		}
	})
	for range 50 {
		if code, _ := p.collect(t, "outage-client", clusterEvent); code != 503 {
			t.Fatalf("during the outage: %d, want 503", code)
		}
	}
	if code, _ := healthz(t, p); code != 503 {
		t.Errorf("/healthz during the outage: %d", code)
	}
	if err := pg.Resume(); err != nil {
		t.Fatal(err)
	}
	resumed = true
	if !waitFor(30*time.Second, func() bool { code, _ := p.collect(t, "outage-client", clusterEvent); return code == 204 }) {
		t.Fatal("still refused after PostgreSQL is back")
	}
	if code, body := healthz(t, p); code != 200 {
		t.Errorf("/healthz after the outage: %d %s", code, body)
	}
	if start, end := p.logLines("the store refuses writes"), p.logLines("the store takes writes again"); start != 1 || end != 1 {
		t.Errorf("log lines: %d at the start, %d at the end of the outage; want 1 and 1\n%s", start, end, p.Logs.String())
	}
	if n := p.logLines("could not be stored"); n != 0 {
		t.Errorf("%d per-request warnings", n)
	}
}
