package receiver

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/mim-metrics/mim-metrics/store"
)

func readFileIfAny(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// writeTestMMDB builds a small GeoIP2-Country-shaped database.
func writeTestMMDB(t *testing.T, countries map[string]string) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-Country", RecordSize: 24, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, code := range countries {
		_, network, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		rec := mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(code)}}
		if err := tree.Insert(network, rec); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "test.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCountryNotAddress: with a GeoIP database the country is kept, the
// address nowhere (database, logs); X-Forwarded-For counts only from a
// trusted proxy.
func TestCountryNotAddress(t *testing.T) {
	t.Parallel()
	geo, err := OpenGeoIP(writeTestMMDB(t, map[string]string{"203.0.113.0/24": "DE", "198.51.100.0/24": "FR"}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = geo.Close() })
	core, logs := observer.New(zap.DebugLevel)
	e := newEnv(t, func(c *Config) {
		c.GeoIP = geo
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		c.Logger = zap.New(core)
	})
	body := func(cid string) string {
		return `{"client_id":"` + cid + `","events":[{"name":"host_count","params":{"value":1}}]}`
	}
	path := "/mp/collect?measurement_id=G-TEST1234&api_secret=secret-abc"
	// 127.0.0.1 is a trusted proxy; the rightmost untrusted hop is the sender.
	if code, _ := e.post(t, path, body("via-proxy"), "X-Forwarded-For", "198.51.100.1, 203.0.113.77, 127.0.0.5"); code != 204 {
		t.Fatal(code)
	}
	if code, _ := e.post(t, path, body("direct")); code != 204 {
		t.Fatal(code)
	}
	got := e.exported(t)
	if len(got) != 2 || got[0].Country != "DE" || got[1].Country != "" {
		t.Errorf("countries %q %q, want DE and none (loopback)", got[0].Country, got[1].Country)
	}
	_ = e.st.Close()
	e.post(t, path, body("store-down"), "X-Forwarded-For", "203.0.113.77") // logs a warning
	assertNoSentinel(t, e.db, "203.0.113.77", "198.51.100.1", "127.0.0.1")
	for _, entry := range logs.All() {
		line := entry.Message
		for _, f := range entry.Context {
			line += " " + f.String
			if f.Interface != nil {
				if err, ok := f.Interface.(error); ok {
					line += " " + err.Error()
				}
			}
		}
		if strings.Contains(line, "203.0.113") || strings.Contains(line, "127.0.0.1") {
			t.Errorf("a log line holds an address: %s", line)
		}
	}
	if logs.Len() == 0 {
		t.Error("the store failure was not logged")
	}
}

func TestSourceAddr(t *testing.T) {
	t.Parallel()
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct{ remote, xff, want string }{
		{"192.0.2.1:5000", "203.0.113.5", "192.0.2.1"},            // untrusted peer: XFF ignored
		{"10.1.1.1:5000", "203.0.113.5", "203.0.113.5"},           // trusted
		{"10.1.1.1:5000", "203.0.113.5, 10.2.2.2", "203.0.113.5"}, // two proxies
		{"10.1.1.1:5000", "1.2.3.4, 203.0.113.5", "203.0.113.5"},  // a client-forged left hop is ignored
		{"10.1.1.1:5000", "garbage", "10.1.1.1"},
		{"10.1.1.1:5000", "", "10.1.1.1"},
		{"[::ffff:10.1.1.1]:5000", "2001:db8::1", "2001:db8::1"},
	}
	for _, tc := range tests {
		r, _ := http.NewRequest(http.MethodPost, "/", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := sourceAddr(r, trusted); got.String() != tc.want {
			t.Errorf("sourceAddr(%s, %q) = %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
	if got := addrKey(netip.MustParseAddr("2001:db8:1:2:3:4:5:6")).String(); got != "2001:db8:1:2::/64" {
		t.Errorf("IPv6 key %s", got)
	}
}

func TestParseProperty(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"G-ABC:s3cret":    "G-ABC s3cret production",
		"G-ABC:s3cret:ci": "G-ABC s3cret ci",
		"UA-1-2":          "UA-1-2  production",
		"UA-1-2:ci":       "UA-1-2  ci",
		"G-ABC":           "property G-ABC: the API secret is missing; expected G-XXXX:SECRET[:production|ci] or UA-XXXX-N[:production|ci]",
		"G-ABC:s:staging": `property G-ABC: unknown kind "staging": use production or ci`,
		"UA-1-2:secret":   "property UA-1-2: UA properties have no secret; after the id only a kind may follow (production or ci)",
		"nonsense:x":      `invalid property id "nonsense": expected G-XXXX:SECRET[:production|ci] or UA-XXXX-N[:production|ci]`,
		"G-ABC:a:b:c":     "property G-ABC: too many colons; expected G-XXXX:SECRET[:production|ci] or UA-XXXX-N[:production|ci]",
	} {
		p, err := ParseProperty(in)
		got := p.ID + " " + p.Secret + " " + string(p.Kind)
		if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("ParseProperty(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSlowloris: a client that trickles its headers is cut off after the
// header timeout, and the server keeps serving others meanwhile.
func TestSlowloris(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer("", e.rc, Timeouts{ReadHeader: 300 * time.Millisecond, Read: time.Second, Write: time.Second, Idle: time.Second})
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })

	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	closed := make(chan time.Duration, 1)
	go func() {
		_, _ = io.Copy(io.Discard, conn) // returns when the server closes
		closed <- time.Since(start)
	}()
	header := "POST /mp/collect?measurement_id=G-TEST1234&api_secret=secret-abc HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 100)
	trickled := 0
	deadline := time.After(10 * time.Second)
loop:
	for _, b := range []byte(header) {
		select {
		case d := <-closed:
			if d < 250*time.Millisecond {
				t.Errorf("cut off after %v, before the header timeout", d)
			}
			break loop
		case <-deadline:
			t.Fatal("the trickling connection is still open after 10 s")
		case <-time.After(50 * time.Millisecond):
			if _, err := conn.Write([]byte{b}); err != nil {
				break loop
			}
			trickled++
		}
		if trickled == 3 { // meanwhile, a real request is served
			resp, err := http.Post("http://"+l.Addr().String()+"/debug/mp/collect?measurement_id=G-TEST1234&api_secret=secret-abc", "application/json", strings.NewReader(`{}`))
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("a normal request during the slow one: %v %v", err, resp)
			}
			resp.Body.Close()
		}
	}
	if trickled == len(header) {
		t.Fatal("the whole trickled header was accepted")
	}
}

// TestSlowBody: a body sent too slowly is cut off at the read timeout.
func TestSlowBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer("", e.rc, Timeouts{ReadHeader: time.Second, Read: 500 * time.Millisecond, Write: time.Second, Idle: time.Second})
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(conn, "POST /mp/collect?measurement_id=G-TEST1234&api_secret=secret-abc HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return // closed without an answer: cut off
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a body that never came: %d", resp.StatusCode)
	}
	if n := len(e.exported(t)); n != 0 {
		t.Errorf("%d events stored", n)
	}
}

// TestJobs: roll-ups of the changed days, retention in bounded batches,
// with an injected clock.
func TestJobs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	old := testNow.AddDate(0, 0, -100)
	for i := range 7 {
		_, err := e.st.AddBatch(ctx, store.Batch{Received: old, Property: testGA4ID, Kind: store.Production, ClientID: "old-" + string(rune('a'+i)), Counted: true,
			Events: goldenReports(t)["mim-6.2.1"][:3]})
		if err != nil {
			t.Fatal(err)
		}
	}
	if code, _ := e.post(t, "/mp/collect?measurement_id=G-TEST1234&api_secret=secret-abc", `{"client_id":"new","events":[{"name":"cluster","params":{"version":"6.4.0"}}]}`); code != 204 {
		t.Fatal(code)
	}
	j := &Jobs{Store: e.st, Retention: 90 * 24 * time.Hour, DeleteBatch: 5, MaxDeletes: 2, Flush: e.rc.FlushCounts, Now: func() time.Time { return testNow }}
	if err := j.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if days, err := e.st.DaysToRollUp(ctx); err != nil || len(days) != 0 {
		t.Errorf("days left to roll up: %v %v", days, err)
	}
	rows, err := e.st.Rollups(ctx, store.RollupQuery{From: store.Day(testNow), To: store.Day(testNow), Dimensions: []string{"version"}})
	if err != nil || len(rows) != 1 || rows[0].Value != "6.4.0" {
		t.Errorf("roll-ups %+v %v", rows, err)
	}
	left := len(e.exported(t))
	if left != 1+21-10 {
		t.Errorf("%d raw events left after one run, want 12 (two deletes of 5)", left)
	}
	for range 2 {
		if err := j.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.exported(t); len(got) != 1 || got[0].ClientID != "new" {
		t.Errorf("after the second run: %d raw events", len(got))
	}
	if c := e.counts(t); c[testGA4ID+" stored"] != 1 {
		t.Errorf("counts flushed by the job: %v", c)
	}
	ticks := make(chan time.Time)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { j.Run(runCtx, ticks); close(done) }()
	ticks <- testNow
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
}
