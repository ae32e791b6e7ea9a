package reporting

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/test/fakega"
)

// Node names are local information: a sentinel in the node name never
// reaches a destination, whatever the protocol.
func TestNodeNamesAreNeverSent(t *testing.T) {
	t.Parallel()
	const sentinel = "sentinel-host.example"
	ga := fakega.New(t)
	log, _ := observed()
	r := mimReport("mim@" + sentinel)
	r2 := mimReport("mim2@" + sentinel)
	r2.Err = nil
	src := &fakeSource{clusterID: "cid", reports: []metrics.NodeReport{r, r2}}
	cfg := testConfig(t, src, ga.URL, log)
	cfg.Targets = Targets{Upstream: true, Own: []Destination{mustDest(t, "G-OWN:secret"), mustDest(t, "UA-1-2")}}
	ga.Script(fakega.Status(500)) // a retry must not add anything either
	res, err := newService(t, cfg).RunOnce(context.Background())
	if err != nil || !res.Accepted() {
		t.Fatalf("RunOnce = %+v, %v", res, err)
	}
	reqs := ga.Requests()
	if len(reqs) != 7 {
		t.Fatalf("%d requests, want 7", len(reqs))
	}
	for _, q := range reqs {
		unescaped, _ := url.QueryUnescape(string(q.Body))
		for _, s := range []string{string(q.Body), unescaped, q.Path, q.RawQuery, strings.Join(q.Header.Values("User-Agent"), " ")} {
			if strings.Contains(s, sentinel) {
				t.Errorf("request %d carries the node name: %s", q.N, s)
			}
		}
	}
	// It is in the local report file, which stays on the machine.
	if data, _ := os.ReadFile(cfg.ReportFile); !strings.Contains(string(data), sentinel) {
		t.Error("the report file should name the nodes")
	}
}

// The API secret never appears in logs, errors, the report file or the
// preview, whatever goes wrong.
func TestSecretNeverLogged(t *testing.T) {
	t.Parallel()
	const secret = "SENTINEL+secret/value=0123456789"
	escaped := url.QueryEscape(secret)
	ga := fakega.New(t)
	// Rejected, then connection dropped repeatedly (network errors carry the
	// URL), then a hang ended by the deadline.
	ga.Script(fakega.Status(400), fakega.CloseConnection(), fakega.CloseConnection(), fakega.CloseConnection(), fakega.CloseConnection())
	ga.SetDefault(fakega.Hang())
	log, logs := observed()
	src := &fakeSource{clusterID: "cid", reports: []metrics.NodeReport{mimReport("a@h"), mimReport("b@h"), mimReport("c@h")}}
	cfg := testConfig(t, src, ga.URL, log)
	cfg.RequestTimeout = 50 * time.Millisecond
	cfg.Targets = Targets{Upstream: false, Own: []Destination{mustDest(t, "G-SENTINEL:"+secret)}}
	svc := newService(t, cfg)

	res, err := svc.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, d := range res.Destinations {
		if d.Err == nil {
			t.Fatal("expected a failure")
		}
		texts = append(texts, d.Err.Error())
	}
	// Every request hangs until the per-request timeout.
	res, err = svc.RunOnce(context.Background())
	if err != nil || res.Accepted() {
		t.Fatalf("RunOnce = %+v, %v", res, err)
	}
	texts = append(texts, res.Destinations[0].Err.Error())
	if !strings.Contains(res.Destinations[0].Err.Error(), "no answer within 50ms") {
		t.Errorf("error %v, want a timeout", res.Destinations[0].Err)
	}
	var preview bytes.Buffer
	if err := svc.Preview(context.Background(), &preview, false); err != nil {
		t.Fatal(err)
	}
	file, _ := os.ReadFile(cfg.ReportFile)
	texts = append(texts, logText(logs), preview.String(), string(file))
	for _, text := range texts {
		for _, s := range []string{secret, escaped, "SENTINEL+secret", "SENTINEL%2Bsecret"} {
			if strings.Contains(text, s) {
				t.Errorf("secret %q leaked in:\n%s", s, text)
			}
		}
	}
	if !strings.Contains(logText(logs), "SENT…(masked)") {
		t.Errorf("the masked secret should identify the destination in errors:\n%s", logText(logs))
	}
	// The secret did reach the server, where it belongs.
	if reqs := ga.Requests(); len(reqs) == 0 || !strings.Contains(reqs[0].RawQuery, escaped) {
		t.Error("the secret was not sent in the query")
	}
}
