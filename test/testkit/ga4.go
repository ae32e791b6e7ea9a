package testkit

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// GA4Sender posts reports to a receiver's GA4 endpoint (Base is its URL)
// for a property, as the sidecar does, from Address (an X-Forwarded-For
// the receiver trusts) when set.
type GA4Sender struct {
	Base, Property, Secret, Address string
}

// maxGA4Events is GA4's limit of events a request (contract.MaxGA4Events;
// testkit imports no package of the project's).
const maxGA4Events = 25

// SendGA4 posts one cluster's report (events as JSON objects of name and
// params, such as contract.Event) with s, in requests of at most 25 events,
// received at at; the test fails unless every request is stored (2xx).
func SendGA4[E any](t testing.TB, s GA4Sender, clientID string, events []E, at time.Time) {
	t.Helper()
	for len(events) > 0 {
		n := min(len(events), maxGA4Events)
		body, err := json.Marshal(map[string]any{"client_id": clientID, "timestamp_micros": at.UnixMicro(), "events": events[:n]})
		if err != nil {
			t.Fatal(err)
		}
		events = events[n:]
		q := url.Values{"measurement_id": {s.Property}, "api_secret": {s.Secret}}
		req, err := http.NewRequest("POST", s.Base+"/mp/collect?"+q.Encode(), bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if s.Address != "" {
			req.Header.Set("X-Forwarded-For", s.Address)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("POST %s's report: %s %s", clientID, resp.Status, answer)
		}
	}
}
