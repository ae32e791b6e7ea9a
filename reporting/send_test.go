package reporting

import (
	"context"
	"errors"
	"io"
	stdlog "log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/test/fakega"
)

func TestRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		script       []fakega.Behavior
		wantOutcome  Outcome
		wantAttempts int
		wantStatus   int
		wantErr      string
	}{
		{name: "500 then 200", script: []fakega.Behavior{fakega.Status(500), fakega.Status(200)}, wantOutcome: Accepted, wantAttempts: 2, wantStatus: 500},
		{name: "204 at once", script: []fakega.Behavior{fakega.Status(204)}, wantOutcome: Accepted, wantAttempts: 1},
		{name: "connection closed then 200", script: []fakega.Behavior{fakega.CloseConnection(), fakega.Status(200)}, wantOutcome: Accepted, wantAttempts: 2},
		{name: "400 is not retried", script: []fakega.Behavior{fakega.Status(400), fakega.Status(200)}, wantOutcome: Rejected, wantAttempts: 1, wantStatus: 400, wantErr: "HTTP status 400"},
		{name: "429 is retried", script: []fakega.Behavior{fakega.Status(429), fakega.Status(200)}, wantOutcome: Accepted, wantAttempts: 2, wantStatus: 429},
		{name: "429 until attempts run out", script: []fakega.Behavior{fakega.Status(429), fakega.Status(429), fakega.Status(429), fakega.Status(429), fakega.Status(200)}, wantOutcome: Failed, wantAttempts: 4, wantStatus: 429, wantErr: "after 4 attempts: HTTP status 429"},
		{name: "5xx until attempts run out", script: []fakega.Behavior{fakega.Status(500), fakega.Status(502), fakega.Status(503), fakega.Status(500), fakega.Status(200)}, wantOutcome: Failed, wantAttempts: 4, wantStatus: 500, wantErr: "after 4 attempts: HTTP status 500"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ga := fakega.New(t)
			ga.Script(tc.script...)
			log, logs := observed()
			src := &fakeSource{clusterID: "cid", reports: []metrics.NodeReport{mimReport("mim@h")}}
			res, err := newService(t, testConfig(t, src, ga.URL, log)).RunOnce(context.Background())
			if err != nil {
				t.Fatalf("RunOnce: %v", err)
			}
			d := res.Destinations[0]
			if d.Outcome != tc.wantOutcome || d.Attempts != tc.wantAttempts || d.Status != tc.wantStatus {
				t.Errorf("result = outcome %s, %d attempts, status %d; want %s, %d, %d (err %v)", d.Outcome, d.Attempts, d.Status, tc.wantOutcome, tc.wantAttempts, tc.wantStatus, d.Err)
			}
			if tc.wantErr != "" && (d.Err == nil || !strings.Contains(d.Err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want it to contain %q", d.Err, tc.wantErr)
			}
			if got := ga.RequestCount(); got != tc.wantAttempts {
				t.Errorf("fake GA got %d requests, want %d", got, tc.wantAttempts)
			}
			if res.Accepted() != (tc.wantOutcome == Accepted) {
				t.Errorf("Result.Accepted() = %v", res.Accepted())
			}
			// One line per destination says what happened.
			var lines int
			for _, e := range logs.All() {
				if strings.HasPrefix(e.Message, "report accepted") || strings.HasPrefix(e.Message, "report rejected") || strings.HasPrefix(e.Message, "report failed") {
					lines++
				}
			}
			if lines != 1 {
				t.Errorf("%d result lines, want 1:\n%s", lines, logText(logs))
			}
		})
	}
}

func TestNoAnswerIsBoundedByTimeoutAndDeadline(t *testing.T) {
	t.Parallel()
	ga := fakega.New(t)
	ga.SetDefault(fakega.Hang())
	log, logs := observed()
	src := &fakeSource{clusterID: "cid", reports: []metrics.NodeReport{mimReport("mim@h")}}

	// The per-request timeout ends each attempt; the attempts run out.
	cfg := testConfig(t, src, ga.URL, log)
	cfg.RequestTimeout = 30 * time.Millisecond
	start := time.Now()
	res, err := newService(t, cfg).RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d := res.Destinations[0]; d.Outcome != Failed || d.Attempts != 4 || !strings.Contains(d.Err.Error(), "no answer within 30ms") {
		t.Errorf("timeout: outcome %s after %d attempts, want failed after 4 (%v)", d.Outcome, d.Attempts, d.Err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("timeout: took %v", took)
	}
	if len(logs.FilterMessageSnippet("report failed").All()) != 1 || !strings.Contains(logText(logs), "after 4 attempts") {
		t.Errorf("no failure line:\n%s", logText(logs))
	}

	// The caller's deadline ends everything, even with a long timeout.
	cfg = testConfig(t, src, ga.URL, log)
	cfg.RequestTimeout = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	res, err = newService(t, cfg).RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := res.Destinations[0]; d.Outcome != Failed || !errors.Is(d.Err, context.DeadlineExceeded) || !strings.Contains(d.Err.Error(), "no time left") {
		t.Errorf("deadline: outcome %s, error %v; want failed for lack of time", d.Outcome, d.Err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("deadline: took %v, want about 100ms", took)
	}
	if res.FileErr != nil {
		t.Errorf("the report file must be written also when sending failed: %v", res.FileErr)
	}
}

func TestNoRetryWhenTheDeadlineIsTooClose(t *testing.T) {
	t.Parallel()
	ga := fakega.New(t)
	ga.SetDefault(fakega.Status(503))
	log, _ := observed()
	cfg := testConfig(t, &fakeSource{clusterID: "cid", reports: []metrics.NodeReport{mimReport("mim@h")}}, ga.URL, log)
	cfg.Retry = RetryPolicy{Attempts: 4, BaseDelay: 10 * time.Second, MaxDelay: 10 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	res, err := newService(t, cfg).RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d := res.Destinations[0]
	if d.Attempts != 1 || d.Err == nil || !strings.Contains(d.Err.Error(), "no time left") {
		t.Errorf("%d attempts, err %v; want 1 attempt and a note about the deadline", d.Attempts, d.Err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %v; it should give up at once instead of waiting for the deadline", took)
	}
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{Attempts: 5, BaseDelay: 100 * time.Millisecond, MaxDelay: 300 * time.Millisecond}
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 300 * time.Millisecond, 6: 300 * time.Millisecond} {
		for range 20 {
			if d := p.backoff(n); d < want/2 || d > want {
				t.Errorf("backoff(%d) = %v, want in [%v, %v]", n, d, want/2, want)
			}
		}
	}
}

func TestHTTPClientVerifiesTLSAndStaysOnHost(t *testing.T) {
	t.Parallel()
	c := NewHTTPClient()
	if tr, ok := c.Transport.(*http.Transport); !ok || (tr.TLSClientConfig != nil && tr.TLSClientConfig.InsecureSkipVerify) {
		t.Fatalf("transport %T does not verify TLS", c.Transport)
	}

	// A self-signed certificate is refused.
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tlsSrv.Config.ErrorLog = stdlog.New(io.Discard, "", 0) // the refused handshake is expected
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	resp, err := c.Post(tlsSrv.URL+"/mp/collect", "application/json", strings.NewReader("{}"))
	if err == nil {
		resp.Body.Close()
		t.Error("request to a server with an unknown certificate succeeded")
	} else if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("error %v, want a certificate error", err)
	}

	// A redirect to another host (it would carry the secret there) is refused.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the redirect was followed")
	}))
	defer other.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	resp, err = c.Post(redirector.URL+"/mp/collect?api_secret=x", "application/json", strings.NewReader("{}"))
	if err == nil {
		resp.Body.Close()
		t.Error("redirect to another host was followed")
	} else if !strings.Contains(err.Error(), "another host") {
		t.Errorf("error %v, want a refused redirect", err)
	}

	// The sender takes a refused redirect as a final answer: no retries.
	log, _ := observed()
	cfg := testConfig(t, &fakeSource{clusterID: "cid", reports: []metrics.NodeReport{mimReport("mim@h")}}, redirector.URL, log)
	res, err := newService(t, cfg).RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d := res.Destinations[0]; d.Outcome != Rejected || d.Attempts != 1 || d.Status != http.StatusTemporaryRedirect ||
		!strings.Contains(d.Err.Error(), "refusing redirect") || strings.Contains(d.Err.Error(), d.Destination.Secret) {
		t.Errorf("outcome %s, %d attempts, status %d, err %v; want rejected once", d.Outcome, d.Attempts, d.Status, d.Err)
	}
}
