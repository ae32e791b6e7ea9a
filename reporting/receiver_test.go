package reporting

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/test/fakega"
	"github.com/mim-metrics/mim-metrics/test/testkit"
)

const receiverSecret = "RecvSecret-7f3a-Value"

func mustReceiver(t *testing.T, s string) Destination {
	t.Helper()
	d, err := ParseReceiverURL(s)
	if err != nil {
		t.Fatalf("ParseReceiverURL(%q): %v", maskURLSecret(s), err)
	}
	return d
}

// receiverAt is a receiver destination at a fake's URL.
func receiverAt(t *testing.T, baseURL string) Destination {
	t.Helper()
	return mustReceiver(t, strings.Replace(baseURL, "://", "://G-OWN7F3A:"+receiverSecret+"@", 1))
}

func TestParseReceiverURL(t *testing.T) {
	t.Parallel()
	ok := []struct{ in, id, secret, base string }{
		{"https://G-OWN:" + receiverSecret + "@metrics.example.org", "G-OWN", receiverSecret, "https://metrics.example.org"},
		{"https://G-OWN:" + receiverSecret + "@metrics.example.org:8443/mim/", "G-OWN", receiverSecret, "https://metrics.example.org:8443/mim"},
		{"https://G-OWN:a%2Fb%40c@metrics.example.org", "G-OWN", "a/b@c", "https://metrics.example.org"},
		{"http://G-E2E:secret@127.0.0.1:8080", "G-E2E", "secret", "http://127.0.0.1:8080"},
		{"http://G-E2E:secret@[::1]:8080/p", "G-E2E", "secret", "http://[::1]:8080/p"},
		{" http://G-E2E:secret@localhost:8080 ", "G-E2E", "secret", "http://localhost:8080"},
	}
	for _, tc := range ok {
		d, err := ParseReceiverURL(tc.in)
		if err != nil {
			t.Errorf("ParseReceiverURL(%q): %v", tc.in, err)
			continue
		}
		want := Destination{Protocol: GA4, ID: tc.id, Secret: tc.secret, Receiver: tc.base}
		if d != want {
			t.Errorf("ParseReceiverURL(%q) = %#v, want %#v", tc.in, d, want)
		}
	}
	bad := []struct{ in, want string }{
		{"https://metrics.example.org", "the property id is missing"},
		{"https://:" + receiverSecret + "@metrics.example.org", "the property id is missing"},
		{"https://G-OWN@metrics.example.org", "the API secret is missing"},
		{"https://G-OWN:@metrics.example.org", "the API secret is missing"},
		{"https://g-own:" + receiverSecret + "@metrics.example.org", "not a GA4 measurement id"},
		{"https://UA-1-2:" + receiverSecret + "@metrics.example.org", "not a GA4 measurement id"},
		{"ftp://G-OWN:" + receiverSecret + "@metrics.example.org", "the scheme must be https"},
		{"G-OWN:" + receiverSecret + "@metrics.example.org", "the scheme must be https"},
		{"http://G-OWN:" + receiverSecret + "@metrics.example.org", "http is accepted only for a loopback host"},
		{"http://G-OWN:" + receiverSecret + "@10.0.0.1", "http is accepted only for a loopback host"},
		{"https://G-OWN:" + receiverSecret + "@", "no host"},
		{"https://G-OWN:" + receiverSecret + "@metrics.example.org/?measurement_id=G-OWN", "no query or fragment"},
		{"https://G-OWN:" + receiverSecret + "@metrics.example.org/#x", "no query or fragment"},
		{"https://G-OWN:" + receiverSecret + "%zz@metrics.example.org", "does not parse"},
		{"https://G-OWN:two%20" + receiverSecret + "@metrics.example.org", "spaces or control characters"},
		{"", "the scheme must be https"},
	}
	for _, tc := range bad {
		_, err := ParseReceiverURL(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseReceiverURL(%q) error = %v, want it to say %q", tc.in, err, tc.want)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, receiverSecret) || strings.Contains(msg, "\n") {
			t.Errorf("ParseReceiverURL(%q): the error shows the secret or is not one line: %s", tc.in, msg)
		}
	}
}

func TestMaskURLSecret(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://G-OWN:" + receiverSecret + "@h/p?q": "https://G-OWN:Recv…(masked)@h/p?q",
		"https://G-OWN:short@h":                      "https://G-OWN:…(masked)@h",
		"G-OWN:" + receiverSecret + "@h":             "G-OWN:Recv…(masked)@h",
		"https://G-OWN:a@b@h":                        "https://G-OWN:…(masked)@h",
		"https://G-OWN@h":                            "https://G-OWN@h",
		"https://h/x:y@z":                            "https://h/x:y@z",
		"":                                           "",
	} {
		if got := maskURLSecret(in); got != want {
			t.Errorf("maskURLSecret(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReceiverSecretIsMaskedInFormatting(t *testing.T) {
	t.Parallel()
	d := mustReceiver(t, "https://G-OWN:"+receiverSecret+"@metrics.example.org/mim")
	if got := d.String(); got != "GA4 G-OWN at https://metrics.example.org/mim (your receiver)" {
		t.Errorf("String = %q", got)
	}
	for _, s := range []string{fmt.Sprint(d), fmt.Sprintf("%v %+v %#v %s", d, d, d, d), fmt.Sprintf("%v", []Destination{d})} {
		if strings.Contains(s, receiverSecret) {
			t.Errorf("formatted destination shows the secret: %s", s)
		}
	}
	log, logs := observed()
	log.Info("x", zap.Any("dest", d), zap.Object("obj", d), zap.Stringer("str", d), zap.Reflect("refl", d))
	if text := logText(logs); strings.Contains(text, receiverSecret) || !strings.Contains(text, "metrics.example.org/mim") {
		t.Errorf("logged destination: %s", text)
	}
}

// timestamps decodes the timestamp_micros of each request body (0 when
// absent).
func timestamps(t *testing.T, reqs []Request) []int64 {
	t.Helper()
	out := make([]int64, len(reqs))
	for i, r := range reqs {
		var body struct {
			TimestampMicros int64 `json:"timestamp_micros"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		out[i] = body.TimestampMicros
	}
	return out
}

// Requests to a receiver go to its base URL (path prefix kept) and every
// request of one node carries the same timestamp_micros: the cycle's time
// plus the node's index in µs. Google's requests carry none.
func TestReceiverRequests(t *testing.T) {
	t.Parallel()
	big := mimReport("mim@h1")
	for i := 0; i < 30; i++ { // more than 25 events: two requests
		big.Events = append(big.Events, contract.Event{Name: contract.ModuleWithOpt, Params: map[string]any{"module": fmt.Sprintf("mod_%d", i)}})
	}
	reports := []metrics.NodeReport{big, mimReport("mim@h2")}
	at := time.Date(2026, 12, 4, 3, 0, 0, 123456789, time.UTC)
	d := mustReceiver(t, "https://G-OWN:"+receiverSecret+"@metrics.example.org/mim/")
	reqs, dropped, err := BuildRequests(d, DefaultEndpoint, "cid", at, reports)
	if err != nil || len(dropped) != 0 {
		t.Fatalf("BuildRequests: %v, dropped %v", err, dropped)
	}
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3 (two for the first node, one for the second)", len(reqs))
	}
	want := "https://metrics.example.org/mim/mp/collect?api_secret=" + receiverSecret + "&measurement_id=G-OWN"
	if got := reqs[0].URL.String(); got != want {
		t.Errorf("URL = %s, want %s", got, want)
	}
	if got := reqs[0].MaskedURL(); strings.Contains(got, receiverSecret) {
		t.Errorf("MaskedURL shows the secret: %s", got)
	}
	base := at.UnixMicro()
	if got := timestamps(t, reqs); got[0] != base || got[1] != base || got[2] != base+1 {
		t.Errorf("timestamp_micros = %v, want [%d %d %d]", got, base, base, base+1)
	}
	for _, dest := range []Destination{upstreamDestination(false), mustDest(t, "G-GA:secret-of-ga")} {
		ga, _, err := BuildRequests(dest, DefaultEndpoint, "cid", at, reports)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range ga {
			if bytes.Contains(r.Body, []byte("timestamp_micros")) || r.URL.Host != "www.google-analytics.com" {
				t.Errorf("%s request %d: %s %s", dest, i, r.URL.Host, r.Body)
			}
		}
	}
	if _, _, err := BuildRequests(Destination{Protocol: UA, ID: "UA-1-2", Receiver: "https://m.example.org"}, DefaultEndpoint, "cid", at, reports); err == nil {
		t.Error("a UA receiver destination was accepted")
	}
}

// A receiver gets every report (also an ejabberd cluster's), alongside
// Google or instead of it; with --upstream=false and only a receiver,
// nothing goes to Google.
func TestReceiverGetsEveryReport(t *testing.T) {
	t.Parallel()
	for _, server := range []metrics.Server{metrics.MongooseIM, metrics.Ejabberd} {
		for _, upstream := range []bool{true, false} {
			ga, recv := fakega.New(t), fakega.New(t)
			r1, r2 := mimReport("n1@h"), mimReport("n2@h")
			r1.Server, r2.Server = server, server
			src := &fakeSource{clusterID: "cid", reports: []metrics.NodeReport{r1, r2}}
			cfg := testConfig(t, src, ga.URL, zap.NewNop())
			cfg.Targets = Targets{Upstream: upstream, Receivers: []Destination{receiverAt(t, recv.URL)}}
			res, err := newService(t, cfg).RunOnce(context.Background())
			if err != nil || !res.Accepted() {
				t.Fatalf("%s upstream=%t: %v %+v", server, upstream, err, res)
			}
			if got, want := len(recv.Events()), 2*len(mimEvents()); got != want {
				t.Errorf("%s upstream=%t: the receiver got %d events, want %d", server, upstream, got, want)
			}
			if ids := recv.MeasurementIDs(); len(ids) != 1 || ids[0] != "G-OWN7F3A" {
				t.Errorf("receiver ids %v", ids)
			}
			for _, e := range recv.Events() {
				if e.APISecret != receiverSecret {
					t.Errorf("api_secret %q", e.APISecret)
				}
			}
			wantGA := 0
			if upstream && server == metrics.MongooseIM {
				wantGA = 2
			}
			if n := ga.RequestCount(); n != wantGA {
				t.Errorf("%s upstream=%t: %d requests to Google, want %d", server, upstream, n, wantGA)
			}
		}
	}
}

// The receiver's retries follow the rules for Google (5xx and 429 retried, other 4xx
// not), and a retried request is byte for byte the first one: its
// timestamp_micros is the cycle's, not the attempt's, so the receiver can
// store it once.
func TestReceiverRetriesSameRequest(t *testing.T) {
	t.Parallel()
	recv := fakega.New(t)
	recv.Script(fakega.Status(http.StatusServiceUnavailable), fakega.Status(http.StatusServiceUnavailable))
	clock := testkit.NewManualClock[Timer](time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC))
	src := &fakeSource{clusterID: "cid", reports: []metrics.NodeReport{mimReport("n1@h")}}
	cfg := testConfig(t, src, DefaultEndpoint, zap.NewNop())
	cfg.Clock = clock
	cfg.Targets = Targets{Receivers: []Destination{receiverAt(t, recv.URL)}}
	res, err := newService(t, cfg).RunOnce(context.Background())
	if err != nil || !res.Accepted() || res.Destinations[0].Attempts != 3 {
		t.Fatalf("RunOnce: %v, accepted %t, %+v", err, res.Accepted(), res.Destinations)
	}
	bodies := recv.Bodies()
	if len(bodies) != 3 || !bytes.Equal(bodies[0], bodies[2]) || !bytes.Equal(bodies[1], bodies[2]) {
		t.Fatalf("%d bodies; the retries differ from the first:\n%s", len(bodies), bytes.Join(bodies, []byte("\n")))
	}
	want := fmt.Sprintf(`"timestamp_micros":%d,`, clock.Now().UnixMicro())
	if !bytes.Contains(bodies[0], []byte(want)) {
		t.Errorf("body lacks %s: %s", want, bodies[0])
	}

	recv.Reset()
	recv.Script(fakega.Status(http.StatusForbidden))
	res, err = newService(t, cfg).RunOnce(context.Background())
	if err != nil || res.Accepted() || res.Destinations[0].Attempts != 1 || res.Destinations[0].Outcome != Rejected {
		t.Errorf("after a 403: %v, %+v", err, res.Destinations)
	}
}

// The secret is in no log line, error or report file, also when the
// receiver cannot be reached.
func TestReceiverSecretNeverShown(t *testing.T) {
	t.Parallel()
	log, logs := observed()
	src := &fakeSource{clusterID: "cid", reports: []metrics.NodeReport{mimReport("n1@h")}}
	cfg := testConfig(t, src, DefaultEndpoint, log)
	// Port 1 on loopback: connection refused.
	cfg.Targets = Targets{Receivers: []Destination{mustReceiver(t, "http://G-OWN7F3A:"+receiverSecret+"@127.0.0.1:1/p")}}
	res, err := newService(t, cfg).RunOnce(context.Background())
	if err != nil || res.Accepted() {
		t.Fatalf("RunOnce: %v, accepted %t", err, res.Accepted())
	}
	file, err := os.ReadFile(cfg.ReportFile)
	if err != nil {
		t.Fatal(err)
	}
	shown := logText(logs) + string(file) + res.Destinations[0].Err.Error() + fmt.Sprintf("%v %#v", res, res)
	if strings.Contains(shown, receiverSecret) {
		t.Errorf("the secret is shown:\n%s", shown)
	}
	if !strings.Contains(string(file), "127.0.0.1:1/p (your receiver)") {
		t.Errorf("the report file does not name the receiver:\n%s", file)
	}
}

// preview shows the receiver's requests exactly as they are sent.
func TestPreviewShowsReceiverRequests(t *testing.T) {
	t.Parallel()
	recv := fakega.New(t)
	clock := testkit.NewManualClock[Timer](time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC))
	src := &fakeSource{clusterID: "cid", reports: []metrics.NodeReport{mimReport("n1@h"), mimReport("n2@h")}}
	cfg := testConfig(t, src, DefaultEndpoint, zap.NewNop())
	cfg.Clock = clock
	cfg.Targets = Targets{Receivers: []Destination{receiverAt(t, recv.URL)}}
	svc := newService(t, cfg)
	var out bytes.Buffer
	if err := svc.Preview(context.Background(), &out, false); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"reports go only to your receivers: GA4 G-OWN7F3A at " + recv.URL + " (your receiver)",
		"# ==== GA4 G-OWN7F3A at " + recv.URL + " (your receiver): 2 request(s)",
		"POST " + recv.URL + "/mp/collect?api_secret=Recv…(masked)&measurement_id=G-OWN7F3A",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("preview lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, receiverSecret) {
		t.Error("preview shows the secret")
	}
	if recv.RequestCount() != 0 {
		t.Fatal("preview sent requests")
	}
	if _, err := svc.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, b := range recv.Bodies() {
		if !strings.Contains(text, "\n"+string(b)+"\n") {
			t.Errorf("sent body %d is not in the preview:\n%s", i, b)
		}
	}
}
