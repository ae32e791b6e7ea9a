package receiver

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/reporting"
	"github.com/mim-metrics/mim-metrics/store"
	"github.com/mim-metrics/mim-metrics/test/pgtest"
)

const (
	testGA4    = "G-TEST1234:secret-abc"
	testGA4ID  = "G-TEST1234"
	testCI     = "G-CI999:ci-secret:ci"
	testUA     = "UA-151671255-3"
	testUACI   = "UA-151671255-1:ci"
	testClient = "7d3c2f1e-0000-4000-8000-sentinel0001"
)

// testNow is the receivers' clock in these tests.
var testNow = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

type testEnv struct {
	rc  *Receiver
	st  store.Store
	srv *httptest.Server
	db  string
}

var pg *pgtest.Server

func TestMain(m *testing.M) { pgtest.Main(m, &pg) }

// newEnv starts a receiver on a real SQLite store behind a loopback HTTP
// server.
func newEnv(t *testing.T, edit func(*Config)) *testEnv {
	t.Helper()
	db := filepath.Join(t.TempDir(), "r.db")
	return newEnvOn(t, "sqlite:"+db, db, edit)
}

// newEnvOn is newEnv on the store at dsn (db: its SQLite file, or "").
func newEnvOn(t *testing.T, dsn, db string, edit func(*Config)) *testEnv {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	var props []Property
	for _, s := range []string{testGA4, testCI, testUA, testUACI} {
		p, err := ParseProperty(s)
		if err != nil {
			t.Fatal(err)
		}
		props = append(props, p)
	}
	cfg := Config{Store: st, Properties: props, AdminToken: "admin-sentinel-token", Now: func() time.Time { return testNow }}
	if edit != nil {
		edit(&cfg)
	}
	rc, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return &testEnv{rc: rc, st: st, srv: srv, db: db}
}

// post sends a body and returns the status and the answer.
func (e *testEnv) post(t testing.TB, path, body string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// send replays sidecar requests against the test server; every answer
// must be want.
func (e *testEnv) send(t testing.TB, reqs []reporting.Request, want int) {
	t.Helper()
	for _, r := range reqs {
		path := r.URL.Path
		if r.URL.RawQuery != "" {
			path += "?" + r.URL.RawQuery
		}
		if code, msg := e.post(t, path, string(r.Body)); code != want {
			t.Fatalf("POST %s: %d %s, want %d", r.URL.Path, code, msg, want)
		}
	}
}

func (e *testEnv) exported(t testing.TB) []store.StoredEvent {
	t.Helper()
	var out []store.StoredEvent
	err := e.st.Export(context.Background(), time.Time{}, testNow.Add(time.Hour), func(ev store.StoredEvent) error {
		out = append(out, ev)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// counts flushes and reads the day's ingest counts as "property name
// reason" -> n.
func (e *testEnv) counts(t testing.TB) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	if err := e.rc.FlushCounts(ctx); err != nil {
		t.Fatal(err)
	}
	cs, err := e.st.IngestCounts(ctx, store.Day(testNow), store.Day(testNow))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, c := range cs {
		out[strings.TrimSpace(c.Property+" "+c.Name+" "+c.Reason)] += c.N
	}
	return out
}

func eventsOf(evs []store.StoredEvent) []contract.Event {
	out := make([]contract.Event, len(evs))
	for i, e := range evs {
		out[i] = contract.Event{Name: e.Name, Params: e.Params}
	}
	return out
}

// TestStoresSidecarReports: every golden report sent by the sidecar over
// GA4 is stored exactly, node names nowhere; sent again (a retry), nothing
// is stored twice.
func TestStoresSidecarReports(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); testStoresSidecarReports(t, newEnv(t, nil)) })
	t.Run("postgres", func(t *testing.T) { t.Parallel(); testStoresSidecarReports(t, newEnvOn(t, pg.NewDatabase(t), "", nil)) })
}

func testStoresSidecarReports(t *testing.T, e *testEnv) {
	reports := goldenReports(t)
	var want []contract.Event
	var reqs []reporting.Request
	i := 0
	for _, era := range slices.Sorted(maps.Keys(reports)) {
		cid := fmt.Sprintf("cluster-%02d", i)
		i++
		rs := sidecarRequests(t, testGA4, cid, node(reports[era]))
		reqs = append(reqs, rs...)
		want = append(want, reports[era]...)
	}
	e.send(t, reqs, http.StatusNoContent)
	got := e.exported(t)
	if !reflect.DeepEqual(normalise(eventsOf(got)), normalise(want)) {
		t.Fatalf("stored events differ from the reports sent: %d stored, %d sent", len(got), len(want))
	}
	for _, ev := range got {
		if ev.Property != testGA4ID || ev.Kind != store.Production || ev.ReportKey == "" {
			t.Fatalf("stored event %+v", ev)
		}
	}
	e.send(t, reqs, http.StatusNoContent) // the sidecar's retry
	if n := len(e.exported(t)); n != len(got) {
		t.Errorf("a retry stored events again: %d, want %d", n, len(got))
	}
	c := e.counts(t)
	if c[testGA4ID+" requests"] != int64(2*len(reqs)) || c[testGA4ID+" stored"] != int64(len(reqs)) || c[testGA4ID+" duplicate"] != int64(len(reqs)) {
		t.Errorf("ingest counts %v, want %d requests, %d stored, %d duplicates", c, 2*len(reqs), len(reqs), len(reqs))
	}
	if e.db != "" {
		assertNoSentinel(t, e.db, "sentinel-host")
	}
}

// normalise orders events for comparison (the store exports them by
// received time, then as stored).
func normalise(evs []contract.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = fmt.Sprint(e.Name, e.Params)
	}
	return out
}

// TestStoresUAHits: the same over UA, to the CI property.
func TestStoresUAHits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	events := goldenReports(t)["mim-5.1.0"]
	e.send(t, sidecarRequests(t, "UA-151671255-1", testClient, node(events)), http.StatusOK)
	got := e.exported(t)
	if !reflect.DeepEqual(normalise(eventsOf(got)), normalise(events)) {
		t.Fatalf("stored %v\nwant %v", eventsOf(got), events)
	}
	if got[0].Kind != store.CI || got[0].Property != "UA-151671255-1" {
		t.Errorf("stored as %s %s", got[0].Property, got[0].Kind)
	}
}

func TestRejections(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	good := `{"client_id":"c","events":[{"name":"host_count","params":{"value":1}}]}`
	tests := []struct {
		path, body string
		code       int
		msg        string
	}{
		{"/mp/collect?measurement_id=G-NOPE&api_secret=x", good, 403, "unknown measurement_id \"G-NOPE\": this receiver accepts only the properties it is configured with\n"},
		{"/mp/collect?api_secret=x", good, 403, "measurement_id is missing from the URL\n"},
		{"/mp/collect?measurement_id=G-TEST1234&api_secret=wrong", good, 403, "wrong api_secret for measurement_id G-TEST1234\n"},
		{"/mp/collect?measurement_id=UA-151671255-3&api_secret=", good, 403, "unknown measurement_id \"UA-151671255-3\": this receiver accepts only the properties it is configured with\n"},
		{"/mp/collect?measurement_id=G-TEST1234&api_secret=secret-abc", `{"events":[]}`, 400, "client_id is missing\n"},
		{"/mp/collect?measurement_id=G-TEST1234&api_secret=secret-abc", `{"client_id":"c","events":[` + strings.Repeat(`{"name":"host_count","params":{"value":1}},`, 30) + `{}]}`, 400, "31 events, more than 25 in one request\n"},
		{"/mp/collect?measurement_id=G-TEST1234&api_secret=secret-abc", `{"client_id":"` + strings.Repeat("x", 130_000) + `"}`, 413, "the body is larger than 129999 bytes, the most GA4 (less than 130 kB) allows\n"},
		{"/batch", "v=1&tid=UA-9-9&t=event&cid=c&ec=hosts&ea=count&el=1", 403, "unknown tracking id \"UA-9-9\": this receiver accepts only the properties it is configured with\n"},
		{"/batch", "v=1&tid=G-TEST1234&t=event&cid=c&ec=hosts&ea=count&el=1", 403, "unknown tracking id \"G-TEST1234\": this receiver accepts only the properties it is configured with\n"},
		{"/batch", "v=1&tid=UA-151671255-3&t=event&ec=hosts", 400, "cid is missing\n"},
		{"/collect", strings.Repeat("x", 17_000), 413, "the body is larger than 16384 bytes, the most a UA batch (16 KiB) allows\n"},
		{"/api/v1/reports", `[]`, 403, "wrong or missing admin token: send Authorization: Bearer <admin token>\n"},
	}
	for _, tc := range tests {
		code, msg := e.post(t, tc.path, tc.body)
		if code != tc.code || msg != tc.msg {
			t.Errorf("POST %s: %d %q, want %d %q", tc.path, code, msg, tc.code, tc.msg)
		}
	}
	if n := len(e.exported(t)); n != 0 {
		t.Errorf("%d events stored from refused requests", n)
	}
	c := e.counts(t)
	for k, want := range map[string]int64{
		"rejected unknown property": 5, testGA4ID + " rejected wrong secret": 1, testGA4ID + " rejected bad request": 2,
		testGA4ID + " rejected body too large": 1, "rejected bad request": 1, "rejected body too large": 1,
	} {
		if c[k] != want {
			t.Errorf("ingest count %q = %d, want %d (all: %v)", k, c[k], want, c)
		}
	}
}

// TestDroppedEvents: the bad events of a good request are dropped and
// counted by reason, the rest stored.
func TestDroppedEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	body := `{"client_id":"c","events":[{"name":"host_count","params":{"value":1}},{"name":"cluster","params":{"version":"<script>"}},` +
		`{"name":"bogus","params":{}},{"name":"cluster","params":{"node_number":5000}}]}`
	if code, msg := e.post(t, "/mp/collect?measurement_id=G-TEST1234&api_secret=secret-abc", body); code != 204 {
		t.Fatalf("%d %s", code, msg)
	}
	if got := eventsOf(e.exported(t)); fmt.Sprint(got) != "[{host_count map[value:1]}]" {
		t.Errorf("stored %v", got)
	}
	c := e.counts(t)
	if c[testGA4ID+" dropped implausible value"] != 2 || c[testGA4ID+" dropped unknown event"] != 1 {
		t.Errorf("ingest counts %v", c)
	}
}

func TestDebugEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	path := "/debug/mp/collect?measurement_id=G-TEST1234&api_secret=secret-abc"
	code, msg := e.post(t, path, `{"client_id":"c","events":[{"name":"host_count","params":{"value":1}},{"name":"host_count","params":{"value":"x"}}]}`)
	want := `{"validationMessages":[{"fieldPath":"events[1].params.value","description":"event \"host_count\": param \"value\" must be an integer, got a string","validationCode":"VALUE_INVALID"}]}` + "\n"
	if code != 200 || msg != want {
		t.Errorf("debug: %d %s, want %s", code, msg, want)
	}
	if code, msg := e.post(t, path, `{"client_id":"c","events":[{"name":"host_count","params":{"value":1}}]}`); code != 200 || msg != `{"validationMessages":[]}`+"\n" {
		t.Errorf("debug of a good request: %d %s", code, msg)
	}
	if n := len(e.exported(t)); n != 0 {
		t.Errorf("the debug endpoint stored %d events", n)
	}
}

// TestStoreDown: a store that fails gives 503 with Retry-After and one
// line, nothing else.
func TestStoreDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	if resp, err := http.Get(e.srv.URL + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", err, resp)
	}
	_ = e.st.Close()
	if resp, err := http.Get(e.srv.URL + "/healthz"); err != nil || resp.StatusCode != 503 {
		t.Errorf("healthz with the store closed: %v %v", err, resp)
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/mp/collect?measurement_id=G-TEST1234&api_secret=secret-abc",
		strings.NewReader(`{"client_id":"c","events":[{"name":"host_count","params":{"value":1}}]}`))
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || string(b) != "the store is unavailable: retry later\n" || resp.Header.Get("Retry-After") == "" {
		t.Errorf("store down: %d %q Retry-After %q", resp.StatusCode, b, resp.Header.Get("Retry-After"))
	}
	code, msg := e.post(t, "/api/v1/reports", `{"client_id":"c","nodes":[{"events":[{"name":"host_count","params":{"value":1}}]}]}`,
		"Authorization", "Bearer admin-sentinel-token")
	if code != 503 || msg != "the store is unavailable: retry later\n" {
		t.Errorf("reports API with the store down: %d %q", code, msg)
	}
}

// TestBurstAndFlood: a 200-host node's report (about 250 requests at
// once, with the default limits) passes; a flood from one address gets
// 429.
func TestBurstAndFlood(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	base := goldenReports(t)["mim-6.2.1"]
	var events []contract.Event
	for h := range 200 {
		for _, ev := range base {
			if ev.Name == contract.ModuleWithOpt || h == 0 {
				events = append(events, ev)
			}
		}
	}
	reqs := sidecarRequests(t, testGA4, testClient, node(events))
	if len(reqs) < 60 {
		t.Fatalf("only %d requests", len(reqs))
	}
	for len(reqs) < 250 { // a few nodes' worth
		reqs = append(reqs, reqs[:min(len(reqs), 250-len(reqs))]...)
	}
	start := time.Now()
	var wg sync.WaitGroup
	codes := make(chan int, len(reqs))
	for _, r := range reqs {
		wg.Go(func() {
			code, _ := e.post(t, r.URL.Path+"?"+r.URL.RawQuery, string(r.Body))
			codes <- code
		})
	}
	wg.Wait()
	t.Logf("%d requests at once stored in %v", len(reqs), time.Since(start))
	close(codes)
	for c := range codes {
		if c != http.StatusNoContent {
			t.Fatalf("a request of the burst got %d", c)
		}
	}
	// The node's requests hold many equal ones (host types with the same
	// modules): each is stored, the repeated ones (retries) once.
	if got := len(e.exported(t)); got != len(events) {
		t.Errorf("%d events stored, want the report's %d", got, len(events))
	}
	// The flood: the address's bucket holds DefaultAddressLimit.Burst
	// requests and the clock stands still.
	limited := 0
	debug := "/debug/mp/collect?measurement_id=G-TEST1234&api_secret=secret-abc"
	for range DefaultAddressLimit.Burst {
		if code, _ := e.post(t, debug, `{}`); code == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 || limited > len(reqs) {
		t.Errorf("%d of a flood of %d requests limited, want the ones past the burst (%d)", limited, DefaultAddressLimit.Burst, len(reqs))
	}
	code, msg := e.post(t, debug, `{}`)
	if code != 429 || msg != "too many requests from this address: retry later\n" {
		t.Errorf("flood: %d %q", code, msg)
	}
}

// TestClientLimit: one client id's bucket is separate from the address's.
func TestClientLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.ClientLimit = Limit{Rate: 1, Burst: 3} })
	body := `{"client_id":"c","events":[{"name":"host_count","params":{"value":1}}]}`
	var codes []int
	for range 5 {
		code, _ := e.post(t, "/mp/collect?measurement_id=G-TEST1234&api_secret=secret-abc", body)
		codes = append(codes, code)
	}
	if fmt.Sprint(codes) != "[204 204 204 429 429]" {
		t.Errorf("codes %v", codes)
	}
	if code, _ := e.post(t, "/mp/collect?measurement_id=G-TEST1234&api_secret=secret-abc", strings.Replace(body, `"c"`, `"d"`, 1)); code != 204 {
		t.Errorf("another client id: %d", code)
	}
}

// TestFloodOfClientIDs: one address claiming many clusters: all stored,
// only the first few counted in the roll-ups, the rest in the ingest
// health.
func TestFloodOfClientIDs(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); testFloodOfClientIDs(t, newEnv(t, nil)) })
	t.Run("postgres", func(t *testing.T) { t.Parallel(); testFloodOfClientIDs(t, newEnvOn(t, pg.NewDatabase(t), "", nil)) })
}

func testFloodOfClientIDs(t *testing.T, e *testEnv) {
	const n = 40
	for i := range n {
		body := fmt.Sprintf(`{"client_id":"fake-%d","events":[{"name":"cluster","params":{"version":"6.2.1","node_number":1}}]}`, i)
		if code, msg := e.post(t, "/mp/collect?measurement_id=G-TEST1234&api_secret=secret-abc", body); code != 204 {
			t.Fatalf("%d %s", code, msg)
		}
	}
	if got := len(e.exported(t)); got != n {
		t.Errorf("%d events stored, want %d", got, n)
	}
	ctx := context.Background()
	if err := e.st.RollUp(ctx, store.Day(testNow)); err != nil {
		t.Fatal(err)
	}
	rows, err := e.st.Rollups(ctx, store.RollupQuery{From: store.Day(testNow), To: store.Day(testNow), Dimensions: []string{"version"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Value != "6.2.1" || rows[0].Clusters != DefaultMaxClustersPerAddress {
		t.Errorf("roll-up rows %+v, want 6.2.1 counted for %d clusters", rows, DefaultMaxClustersPerAddress)
	}
	if c := e.counts(t); c[testGA4ID+" uncounted "+reasonTooManyClusters] != n-DefaultMaxClustersPerAddress {
		t.Errorf("ingest counts %v", c)
	}
}

func TestReportsAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	auth := []string{"Authorization", "Bearer admin-sentinel-token"}
	file := `{"client_id":"air-gapped-1","generated_at":"2026-11-30T08:00:00Z","nodes":[` +
		`{"node":"mim1@sentinel-host","events":[{"name":"host_count","params":{"value":3}},{"name":"bogus","params":{}}]},` +
		`{"node":"mim2@sentinel-host","events":[{"name":"host_count","params":{"value":3}}]}]}`
	code, msg := e.post(t, "/api/v1/reports?property="+testGA4ID, file, auth...)
	if code != 200 || msg != `{"batches":2,"duplicates":0,"events":2,"dropped":{"unknown event":1}}`+"\n" {
		t.Errorf("import: %d %s", code, msg)
	}
	code, msg = e.post(t, "/api/v1/reports?property="+testGA4ID, file, auth...)
	if code != 200 || msg != `{"batches":0,"duplicates":2,"events":0,"dropped":{"unknown event":1}}`+"\n" {
		t.Errorf("import again: %d %s", code, msg)
	}
	got := e.exported(t)
	if len(got) != 2 || got[0].Property != testGA4ID || got[0].ClientID != "air-gapped-1" || !got[0].Received.Equal(time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("stored %+v", got)
	}
	mim := `[{"name":"host_count","params":{"value":1}}]`
	code, msg = e.post(t, "/api/v1/reports", mim, auth...)
	if code != 400 || msg != "the file names no client id (MongooseIM's own report file): give the cluster's id (client_id, --client-id)\n" {
		t.Errorf("MongooseIM file without client id: %d %s", code, msg)
	}
	if code, msg = e.post(t, "/api/v1/reports?client_id=mim-own&kind=ci", mim, auth...); code != 200 {
		t.Errorf("MongooseIM file: %d %s", code, msg)
	}
	if got := e.exported(t); len(got) != 3 || got[2].Kind != store.CI || got[2].Property != DefaultImportProperty {
		t.Errorf("stored %+v", got)
	}
	if code, msg = e.post(t, "/api/v1/reports?property="+strings.Repeat("p", 101), file, auth...); code != 400 || msg != "property must be at most 100 printable characters\n" {
		t.Errorf("a long property: %d %s", code, msg)
	}
	if code, msg = e.post(t, "/api/v1/reports", file, "Authorization", "Bearer admin-sentinel-tokeN"); code != 403 {
		t.Errorf("a wrong token: %d %s", code, msg)
	}
	off := newEnv(t, func(c *Config) { c.AdminToken = "" })
	if code, msg = off.post(t, "/api/v1/reports", file, auth...); code != 403 || msg != "the reports API is disabled: start the receiver with --admin-token\n" {
		t.Errorf("without an admin token: %d %s", code, msg)
	}
	assertNoSentinel(t, e.db, "sentinel-host")
}

func assertNoSentinel(t *testing.T, db string, sentinels ...string) {
	t.Helper()
	for _, f := range []string{db, db + "-wal"} {
		raw, _ := readFileIfAny(f)
		for _, s := range sentinels {
			if bytes.Contains(raw, []byte(s)) {
				t.Errorf("%s holds %q", filepath.Base(f), s)
			}
		}
	}
}

// TestPostgresOutage: PostgreSQL stops mid-report; the receiver answers
// 503 with Retry-After, never 2xx; the sidecar's retry of the whole cycle
// after the restart delivers everything once: nothing lost, nothing
// doubled. Not parallel: it stops the package's one server.
func TestPostgresOutage(t *testing.T) {
	e := newEnvOn(t, pg.NewDatabase(t), "", nil)
	reports := goldenReports(t)
	reqs := sidecarRequests(t, testGA4, "outage-1", node(reports["mim-6.2.1"]))
	reqs = append(reqs, sidecarRequests(t, testGA4, "outage-2", node(reports["mim-5.1.0"]))...)
	want := len(reports["mim-6.2.1"]) + len(reports["mim-5.1.0"])
	half := len(reqs) / 2
	e.send(t, reqs[:half], http.StatusNoContent)
	if err := pg.Pause(); err != nil {
		t.Fatal(err)
	}
	resumed := false
	t.Cleanup(func() {
		if !resumed {
			_ = pg.Resume()
		}
	})
	for _, r := range reqs[half:] {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+r.URL.Path+"?"+r.URL.RawQuery, bytes.NewReader(r.Body))
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || string(b) != "the store is unavailable: retry later\n" {
			t.Fatalf("with PostgreSQL stopped: %d %q Retry-After %q", resp.StatusCode, b, resp.Header.Get("Retry-After"))
		}
	}
	if err := pg.Resume(); err != nil {
		t.Fatal(err)
	}
	resumed = true
	// The sidecar retries what failed; a retry of the whole cycle is the
	// harder case: the first half is already stored.
	deadline := time.Now().Add(60 * time.Second)
	for _, r := range reqs {
		for {
			code, msg := e.post(t, r.URL.Path+"?"+r.URL.RawQuery, string(r.Body))
			if code == http.StatusNoContent {
				break
			}
			if code != http.StatusServiceUnavailable || time.Now().After(deadline) {
				t.Fatalf("after the restart: %d %s", code, msg)
			}
			time.Sleep(200 * time.Millisecond) // the pool reconnecting
		}
	}
	if got := len(e.exported(t)); got != want {
		t.Errorf("%d events stored, want %d: each once", got, want)
	}
	c := e.counts(t)
	if c[testGA4ID+" stored"] != int64(len(reqs)) || c[testGA4ID+" rejected store unavailable"] < int64(len(reqs)-half) {
		t.Errorf("ingest counts %v", c)
	}
}
