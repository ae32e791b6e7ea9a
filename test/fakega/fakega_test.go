package fakega

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func post(t *testing.T, rawURL, contentType, body string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(rawURL, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func ga4URL(base, path, mid, secret string) string {
	return base + path + "?" + url.Values{"measurement_id": {mid}, "api_secret": {secret}}.Encode()
}

func events(n int, name string) string {
	evs := make([]string, n)
	for i := range evs {
		evs[i] = fmt.Sprintf(`{"name":%q,"params":{"value":%d}}`, name, i)
	}
	return "[" + strings.Join(evs, ",") + "]"
}

func TestGA4ValidRequestIsRecorded(t *testing.T) {
	t.Parallel()
	s := New(t)
	body := `{"client_id":"cid-1","events":[{"name":"cluster","params":{"version":"6.8.0","node_number":2,"ratio":0.5}},{"name":"http_api","params":{}}]}`
	resp, _ := post(t, ga4URL(s.URL, "/mp/collect", "G-ABC123", "sec"), "application/json", body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	evs := s.Events()
	if len(evs) != 2 {
		t.Fatalf("got %d events, want 2", len(evs))
	}
	e := evs[0]
	if e.MeasurementID != "G-ABC123" || e.APISecret != "sec" || e.ClientID != "cid-1" || e.Name != "cluster" || !e.Accepted {
		t.Errorf("event = %+v", e)
	}
	if e.Params["version"] != "6.8.0" || e.Params["node_number"] != int64(2) || e.Params["ratio"] != 0.5 {
		t.Errorf("params = %#v", e.Params)
	}
	if got := s.RequestCount(); got != 1 {
		t.Errorf("RequestCount = %d, want 1", got)
	}
	if got := string(s.Bodies()[0]); got != body {
		t.Errorf("body = %s", got)
	}
	if got := s.MeasurementIDs(); len(got) != 1 || got[0] != "G-ABC123" {
		t.Errorf("MeasurementIDs = %v", got)
	}
	if got := s.ClientIDs(); len(got) != 1 || got[0] != "cid-1" {
		t.Errorf("ClientIDs = %v", got)
	}
}

func TestGA4Violations(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 101)
	manyParams := make([]string, 26)
	for i := range manyParams {
		manyParams[i] = fmt.Sprintf(`"p%d":1`, i)
	}
	huge := `{"client_id":"c","events":[{"name":"e","params":{"v":"` + strings.Repeat("a", 130_000) + `"}}]}`
	tests := []struct {
		name        string
		method      string
		path        string
		query       string
		contentType string
		body        string
		wantCode    string
		wantStatus  int
	}{
		{name: "GET", method: http.MethodGet, wantCode: "METHOD", wantStatus: 405},
		{name: "content type", contentType: "text/plain", wantCode: "CONTENT_TYPE"},
		{name: "no secret", query: "measurement_id=G-ABC", wantCode: "QUERY"},
		{name: "empty secret", query: "measurement_id=G-ABC&api_secret=", wantCode: "QUERY"},
		{name: "extra query", query: "measurement_id=G-ABC&api_secret=s&x=1", wantCode: "QUERY"},
		{name: "bad measurement id", query: "measurement_id=UA-1-1&api_secret=s", wantCode: "QUERY"},
		{name: "not JSON", body: `{"client_id":`, wantCode: "JSON"},
		{name: "no client id", body: `{"events":[{"name":"e"}]}`, wantCode: "VALUE_REQUIRED"},
		{name: "client id not string", body: `{"client_id":1,"events":[{"name":"e"}]}`, wantCode: "VALUE_INVALID"},
		{name: "no events", body: `{"client_id":"c","events":[]}`, wantCode: "VALUE_REQUIRED"},
		{name: "26 events", body: `{"client_id":"c","events":` + events(26, "e") + `}`, wantCode: "EXCEEDED_MAX_ENTITIES"},
		{name: "unknown field", body: `{"client_id":"c","nodes":["mim@host"],"events":[{"name":"e"}]}`, wantCode: "NAME_INVALID"},
		{name: "bad event name", body: `{"client_id":"c","events":[{"name":"bad-name"}]}`, wantCode: "NAME_INVALID"},
		{name: "long event name", body: `{"client_id":"c","events":[{"name":"` + strings.Repeat("e", 41) + `"}]}`, wantCode: "VALUE_OUT_OF_BOUNDS"},
		{name: "reserved event", body: `{"client_id":"c","events":[{"name":"session_start"}]}`, wantCode: "NAME_RESERVED"},
		{name: "reserved prefix", body: `{"client_id":"c","events":[{"name":"google_x"}]}`, wantCode: "NAME_RESERVED"},
		{name: "26 params", body: `{"client_id":"c","events":[{"name":"e","params":{` + strings.Join(manyParams, ",") + `}}]}`, wantCode: "EXCEEDED_MAX_ENTITIES"},
		{name: "reserved param prefix", body: `{"client_id":"c","events":[{"name":"e","params":{"ga_x":1}}]}`, wantCode: "NAME_RESERVED"},
		{name: "long value", body: `{"client_id":"c","events":[{"name":"e","params":{"v":"` + long + `"}}]}`, wantCode: "VALUE_OUT_OF_BOUNDS"},
		{name: "bool value", body: `{"client_id":"c","events":[{"name":"e","params":{"v":true}}]}`, wantCode: "VALUE_INVALID"},
		{name: "params not object", body: `{"client_id":"c","events":[{"name":"e","params":[1]}]}`, wantCode: "VALUE_INVALID"},
		{name: "body too large", body: huge, wantCode: "BODY_TOO_LARGE"},
		{name: "unknown path", path: "/collect", wantCode: "PATH", wantStatus: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := New(nil)
			defer s.Close()
			method, path, query, ct, body := tc.method, tc.path, tc.query, tc.contentType, tc.body
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = "/mp/collect"
			}
			if query == "" {
				query = "measurement_id=G-ABC&api_secret=s"
			}
			if ct == "" {
				ct = "application/json"
			}
			if body == "" {
				body = `{"client_id":"c","events":[{"name":"e","params":{"v":1}}]}`
			}
			req, err := http.NewRequest(method, s.URL+path+"?"+query, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", ct)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			want := tc.wantStatus
			if want == 0 {
				want = 200 // GA answers 2xx even to malformed payloads
			}
			if resp.StatusCode != want {
				t.Errorf("status %d, want %d", resp.StatusCode, want)
			}
			vs := s.Violations()
			found := false
			for _, v := range vs {
				if v.Code == tc.wantCode {
					found = true
				}
			}
			if !found {
				t.Errorf("violations %v, want one with code %s", vs, tc.wantCode)
			}
		})
	}
}

func TestGA4DebugEndpointAnswersValidationMessages(t *testing.T) {
	t.Parallel()
	s := New(nil)
	defer s.Close()
	_, b := post(t, ga4URL(s.URL, "/debug/mp/collect", "G-ABC", "s"), "application/json",
		`{"client_id":"c","events":[{"name":"_bad"}]}`)
	var out struct {
		ValidationMessages []struct{ FieldPath, Description, ValidationCode string }
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("answer %s: %v", b, err)
	}
	if len(out.ValidationMessages) == 0 || out.ValidationMessages[0].ValidationCode != "NAME_INVALID" {
		t.Errorf("validation messages = %+v", out.ValidationMessages)
	}
	if r := s.Requests()[0]; !r.Debug || r.Protocol != GA4 {
		t.Errorf("request = %+v", r)
	}

	_, b = post(t, ga4URL(s.URL, "/debug/mp/collect", "G-ABC", "s"), "application/json", `{"client_id":"c","events":[{"name":"ok"}]}`)
	if !bytes.Contains(b, []byte(`"validationMessages":[]`)) {
		t.Errorf("valid payload answer = %s", b)
	}
}

func uaHit(tid string, i int) string {
	return url.Values{"v": {"1"}, "tid": {tid}, "t": {"event"}, "cid": {"c"}, "ec": {"hosts"}, "ea": {"count"}, "el": {fmt.Sprint(i)}}.Encode()
}

func TestUABatch(t *testing.T) {
	t.Parallel()
	hits := func(n int) string {
		lines := make([]string, n)
		for i := range lines {
			lines[i] = uaHit("UA-1-2", i)
		}
		return strings.Join(lines, "\n")
	}
	tests := []struct {
		name     string
		body     string
		wantCode string // "" = valid
		wantHits int
	}{
		{name: "valid", body: hits(20), wantHits: 20},
		{name: "21 hits", body: hits(21), wantCode: "EXCEEDED_MAX_ENTITIES", wantHits: 21},
		{name: "bad tid", body: uaHit("G-ABC", 1), wantCode: "VALUE_INVALID", wantHits: 1},
		{name: "missing ea", body: "v=1&tid=UA-1-2&t=event&cid=c&ec=x", wantCode: "VALUE_REQUIRED", wantHits: 1},
		{name: "version 2", body: "v=2&tid=UA-1-2&t=event&cid=c&ec=x&ea=y", wantCode: "VALUE_INVALID", wantHits: 1},
		{name: "pageview", body: "v=1&tid=UA-1-2&t=pageview&cid=c&ec=x&ea=y", wantCode: "VALUE_INVALID", wantHits: 1},
		{name: "hit over 8K", body: "v=1&tid=UA-1-2&t=event&cid=c&ec=x&ea=y&el=" + strings.Repeat("z", 8200), wantCode: "VALUE_OUT_OF_BOUNDS", wantHits: 1},
		{name: "batch over 16K", body: strings.Repeat("v=1&tid=UA-1-2&t=event&cid=c&ec=x&ea=y&el="+strings.Repeat("z", 4000)+"\n", 5), wantCode: "BODY_TOO_LARGE", wantHits: 5},
		{name: "bad encoding", body: "v=1&tid=UA-1-2&t=event&cid=c&ec=%zz&ea=y", wantCode: "VALUE_INVALID"},
		{name: "empty", body: "", wantCode: "VALUE_REQUIRED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := New(nil)
			defer s.Close()
			resp, _ := post(t, s.URL+"/batch", "text/plain", tc.body)
			if resp.StatusCode/100 != 2 {
				t.Errorf("status %d, want 2xx", resp.StatusCode)
			}
			vs := s.Violations()
			if tc.wantCode == "" && len(vs) > 0 {
				t.Errorf("unexpected violations %v", vs)
			}
			if tc.wantCode != "" {
				found := false
				for _, v := range vs {
					found = found || v.Code == tc.wantCode
				}
				if !found {
					t.Errorf("violations %v, want code %s", vs, tc.wantCode)
				}
			}
			if got := len(s.Events()); got != tc.wantHits {
				t.Errorf("%d hits recorded, want %d", got, tc.wantHits)
			}
		})
	}
}

func TestScriptedBehaviours(t *testing.T) {
	t.Parallel()
	s := New(t)
	s.Script(Status(500), Status(400), Delay(20*time.Millisecond, 202))
	body := `{"client_id":"c","events":[{"name":"e"}]}`
	u := ga4URL(s.URL, "/mp/collect", "G-ABC", "s")
	for _, want := range []int{500, 400, 202, 200} {
		resp, _ := post(t, u, "application/json", body)
		if resp.StatusCode != want {
			t.Errorf("status %d, want %d", resp.StatusCode, want)
		}
	}
	if got, all := len(s.Events()), len(s.AllEvents()); got != 2 || all != 4 {
		t.Errorf("accepted events %d (want 2), all %d (want 4)", got, all)
	}
	reqs := s.Requests()
	if reqs[0].Accepted || reqs[1].Accepted || !reqs[2].Accepted || !reqs[3].Accepted {
		t.Errorf("accepted flags wrong: %+v", reqs)
	}

	s.SetResponder(func(n int) Behavior { return Status(503) })
	if resp, _ := post(t, u, "application/json", body); resp.StatusCode != 503 {
		t.Errorf("responder: status %d, want 503", resp.StatusCode)
	}
	s.SetResponder(nil)
	s.SetDefault(Status(204))
	if resp, _ := post(t, u, "application/json", body); resp.StatusCode != 204 {
		t.Errorf("default: status %d, want 204", resp.StatusCode)
	}
}

func TestHangAndCloseConnection(t *testing.T) {
	t.Parallel()
	s := New(t)
	s.Script(Hang(), CloseConnection())
	body := `{"client_id":"c","events":[{"name":"e"}]}`
	u := ga4URL(s.URL, "/mp/collect", "G-ABC", "s")

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	_, err := http.DefaultClient.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hang: err = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("hang: client waited %v", d)
	}

	req, _ = http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("close connection: got status %d, want an error", resp.StatusCode)
	}
	if len(s.Events()) != 0 || len(s.AllEvents()) != 2 {
		t.Errorf("events accepted %d (want 0), all %d (want 2)", len(s.Events()), len(s.AllEvents()))
	}
}

func TestCloseReleasesHangingHandlers(t *testing.T) {
	t.Parallel()
	s := New(nil)
	s.SetDefault(Hang())
	var wg sync.WaitGroup
	wg.Go(func() {
		resp, err := http.Post(ga4URL(s.URL, "/mp/collect", "G-ABC", "s"), "application/json", strings.NewReader(`{"client_id":"c","events":[{"name":"e"}]}`))
		if err == nil {
			resp.Body.Close()
		}
	})
	if !s.WaitFor(2*time.Second, func() bool { return s.RequestCount() == 1 }) {
		t.Fatal("request never arrived")
	}
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Close blocked on a hanging handler")
	}
	wg.Wait()
}

// recordingTB captures what New(t) reports.
type recordingTB struct {
	testing.TB
	mu       sync.Mutex
	errors   []string
	cleanups []func()
}

func (r *recordingTB) Helper()          {}
func (r *recordingTB) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recordingTB) Errorf(f string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(f, args...))
}

func TestViolationsFailTheTest(t *testing.T) {
	t.Parallel()
	rec := &recordingTB{TB: t}
	s := New(rec)
	post(t, ga4URL(s.URL, "/mp/collect", "G-ABC", "s"), "application/json", `{"client_id":"c","events":[{"name":"error"}]}`)
	for _, f := range rec.cleanups {
		f()
	}
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "NAME_RESERVED") {
		t.Errorf("reported errors = %q, want one NAME_RESERVED", rec.errors)
	}
}

func TestResetAndWaitFor(t *testing.T) {
	t.Parallel()
	s := New(t)
	go func() {
		time.Sleep(10 * time.Millisecond)
		resp, err := http.Post(s.URL+"/batch", "text/plain", strings.NewReader(uaHit("UA-1-2", 1)))
		if err == nil {
			resp.Body.Close()
		}
	}()
	if !s.WaitFor(2*time.Second, func() bool { return len(s.Events()) == 1 }) {
		t.Fatal("WaitFor timed out")
	}
	if got := s.MeasurementIDs(); len(got) != 1 || got[0] != "UA-1-2" {
		t.Errorf("MeasurementIDs = %v", got)
	}
	s.Reset()
	if s.RequestCount() != 0 || len(s.AllEvents()) != 0 {
		t.Error("Reset kept records")
	}
	if s.WaitFor(20*time.Millisecond, func() bool { return s.RequestCount() > 0 }) {
		t.Error("WaitFor reported a request that never came")
	}
}
