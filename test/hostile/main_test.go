// Package hostile_test attacks a running mim-metrics-receiver as a
// hostile sender would, on SQLite and on a real PostgreSQL: poison
// numbers, forged and stale admin sessions, token guessing, floods of
// client ids, spoofing client ids, a full disk, TLS.
package hostile_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/test/testkit"

	"github.com/mim-metrics/mim-metrics/store"
	"github.com/mim-metrics/mim-metrics/test/pgtest"
)

const (
	property   = "G-HOSTILE1"
	secret     = "hostile-secret-5c1d"
	adminToken = "admin-token-sentinel-8d2e41f0"
)

var (
	binary string
	pg     *pgtest.Server
)

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "mim-hostile")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		// MIM_HOSTILE_BINARY: attack another build (an older one, to see
		// the findings fail).
		if binary = os.Getenv("MIM_HOSTILE_BINARY"); binary == "" {
			var err error
			if binary, err = testkit.Build(dir, "./cmd/mim-metrics-receiver"); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		if pg, err = pgtest.Start(); err != nil && err != pgtest.ErrNotInstalled {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			return 1
		}
		defer pg.Stop()
		return m.Run()
	}()
	os.Exit(code)
}

// forEachDB runs fn on a fresh SQLite file and a fresh PostgreSQL database.
func forEachDB(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, "sqlite:"+filepath.Join(t.TempDir(), "r.db")) })
	t.Run("postgres", func(t *testing.T) { fn(t, pg.NewDatabase(t)) })
}

// receiverProc is a running `mim-metrics-receiver serve` and a client
// that does not follow redirects.
type receiverProc struct {
	*testkit.Receiver
	client *http.Client
}

// start runs serve with the test property and admin token, and more
// args; it is stopped with SIGTERM when t ends, and must then exit 0.
func start(t *testing.T, dsn string, extra ...string) *receiverProc {
	t.Helper()
	args := append([]string{"--db", dsn, "--property", property + ":" + secret, "--admin-token", adminToken}, extra...)
	return &receiverProc{Receiver: testkit.StartReceiver(t, binary, args...),
		client: &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a request and returns the status, the body and the answer.
func (p *receiverProc) do(t *testing.T, method, path, body string, header ...string) (int, string, *http.Response) {
	t.Helper()
	req, err := http.NewRequest(method, p.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := p.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp
}

// collect posts one GA4 request of client with events (JSON objects).
func (p *receiverProc) collect(t *testing.T, client string, events ...string) (int, string) {
	t.Helper()
	cid, _ := json.Marshal(client)
	body := `{"client_id":` + string(cid) + `,"events":[` + strings.Join(events, ",") + `]}`
	code, answer, _ := p.do(t, "POST", "/mp/collect?measurement_id="+property+"&api_secret="+secret, body)
	return code, answer
}

// openStore opens the receiver's database beside it, closed when t ends.
func openStore(t *testing.T, dsn string) store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// waitFor polls cond every 100 ms for at most d.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// logLines are the process's JSON log lines whose message contains msg.
func (p *receiverProc) logLines(msg string) int {
	n := 0
	for _, line := range strings.Split(p.Logs.String(), "\n") {
		var l struct{ Msg string }
		if json.Unmarshal([]byte(line), &l) == nil && strings.Contains(l.Msg, msg) {
			n++
		}
	}
	return n
}
