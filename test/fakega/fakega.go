// Package fakega is a fake Google Analytics for tests: an httptest server on
// the loopback interface that checks every request against the documented
// rules of the GA4 Measurement Protocol (/mp/collect, /debug/mp/collect) and
// of the Universal Analytics batch protocol (/batch), records what it
// received, and answers as scripted (status codes, delays, hangs, closed
// connections) for fault tests.
//
// Rules broken by a request are recorded as violations. A server made with
// New(t) reports them as test errors when the test ends.
//
// The checks are written independently of the reporting package, from the
// protocol documentation, so that they test it rather than mirror it.
package fakega

import (
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Protocol is the protocol of a request.
type Protocol string

// Protocols.
const (
	GA4 Protocol = "ga4"
	UA  Protocol = "ua"
)

// Request is one request as received.
type Request struct {
	// N numbers requests from 0 in arrival order.
	N int
	// Method, Path and RawQuery are from the request line.
	Method, Path, RawQuery string
	// Header is the request's header.
	Header http.Header
	// Body is the raw body.
	Body []byte
	// Protocol is GA4 or UA, by path; empty for unknown paths.
	Protocol Protocol
	// Debug is true for the GA4 validation endpoint /debug/mp/collect.
	Debug bool
	// Violations are the rules this request broke.
	Violations []Violation
	// Behavior is how the server answered.
	Behavior Behavior
	// Accepted is true when the server answered 2xx.
	Accepted bool
}

// Event is one GA4 event or UA hit, as received.
type Event struct {
	// Request is the N of the request that carried it.
	Request int
	// Protocol is GA4 or UA.
	Protocol Protocol
	// Accepted is true when the request was answered 2xx.
	Accepted bool

	// GA4 fields: the query's measurement_id and api_secret, the body's
	// client_id, and the event. Integer params are int64, other numbers
	// float64, strings string.
	MeasurementID, APISecret, ClientID, Name string
	Params                                   map[string]any

	// UA fields: tid, cid, ec, ea, el.
	TrackingID, CID, Category, Action, Label string
}

// Violation is a broken protocol rule.
type Violation struct {
	// Request is the N of the offending request.
	Request int
	// Field is where the problem is, e.g. "events[3].params.value".
	Field string
	// Code is a GA4 validationCode (NAME_INVALID, NAME_RESERVED,
	// VALUE_INVALID, VALUE_REQUIRED, VALUE_OUT_OF_BOUNDS,
	// EXCEEDED_MAX_ENTITIES) or a protocol-level one (METHOD, PATH,
	// CONTENT_TYPE, QUERY, BODY_TOO_LARGE, JSON).
	Code string
	// Description says what is wrong.
	Description string
}

// String formats the violation for a test log.
func (v Violation) String() string {
	return "request " + strconv.Itoa(v.Request) + ": " + v.Field + ": " + v.Code + ": " + v.Description
}

// Behavior is how the server answers one request.
type Behavior struct {
	// Status is the HTTP status; 0 means 200 (204 for UA /batch).
	Status int
	// Delay is a pause before answering; it ends early when the client
	// gives up.
	Delay time.Duration
	// Hang never answers: the handler waits until the client gives up or
	// the server closes.
	Hang bool
	// CloseConn closes the connection without any answer.
	CloseConn bool
}

// Status answers with code.
func Status(code int) Behavior { return Behavior{Status: code} }

// Delay answers with code after d.
func Delay(d time.Duration, code int) Behavior { return Behavior{Status: code, Delay: d} }

// Hang never answers.
func Hang() Behavior { return Behavior{Hang: true} }

// CloseConnection drops the connection without answering.
func CloseConnection() Behavior { return Behavior{CloseConn: true} }

// Server is the fake. Create it with New.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:34567; use it as the
	// Google Analytics endpoint.
	URL string

	ts        *httptest.Server
	closing   chan struct{}
	closeOnce sync.Once

	mu         sync.Mutex
	requests   []Request
	events     []Event
	script     []Behavior
	responder  func(n int) Behavior
	defaultBeh Behavior
	changed    chan struct{}
}

// New starts a fake on the loopback interface. With a non-nil t, the
// server is closed when the test ends and every recorded violation is
// reported with t.Errorf.
func New(t testing.TB) *Server {
	s := &Server{closing: make(chan struct{}), changed: make(chan struct{})}
	s.ts = httptest.NewServer(http.HandlerFunc(s.handle))
	s.URL = s.ts.URL
	if t != nil {
		t.Helper()
		t.Cleanup(func() {
			s.Close()
			for _, v := range s.Violations() {
				t.Errorf("fakega: protocol violation: %s", v)
			}
		})
	}
	return s
}

// Close stops the server, releasing hanging handlers first.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.ts.CloseClientConnections()
		s.ts.Close()
	})
}

// Script queues behaviours for the next requests, one each, in order.
// When the queue is empty, the responder (if set) or the default answers.
func (s *Server) Script(bs ...Behavior) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, bs...)
}

// SetResponder answers requests the script does not cover: f gets the
// request number N.
func (s *Server) SetResponder(f func(n int) Behavior) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.responder = f
}

// SetDefault sets the behaviour when neither script nor responder applies
// (initially: 200).
func (s *Server) SetDefault(b Behavior) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.defaultBeh = b
}

// Reset forgets everything recorded (requests, events, violations) and the
// script.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests, s.events, s.script = nil, nil, nil
}

// Requests returns copies of all requests received.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// RequestCount is the number of requests received.
func (s *Server) RequestCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Bodies returns the raw bodies of all requests, in order.
func (s *Server) Bodies() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]byte, len(s.requests))
	for i, r := range s.requests {
		out[i] = r.Body
	}
	return out
}

// Events returns the events of requests answered 2xx: what Google would
// have kept.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Event
	for _, e := range s.events {
		if e.Accepted {
			out = append(out, e)
		}
	}
	return out
}

// AllEvents returns every event received, answered or not.
func (s *Server) AllEvents() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

// Violations returns every rule broken so far.
func (s *Server) Violations() []Violation {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Violation
	for _, r := range s.requests {
		out = append(out, r.Violations...)
	}
	return out
}

// MeasurementIDs returns the distinct destination ids (GA4 measurement_id,
// UA tid) of accepted events, sorted.
func (s *Server) MeasurementIDs() []string {
	return distinct(s.Events(), func(e Event) string {
		if e.Protocol == UA {
			return e.TrackingID
		}
		return e.MeasurementID
	})
}

// ClientIDs returns the distinct client ids (GA4 client_id, UA cid) of
// accepted events, sorted.
func (s *Server) ClientIDs() []string {
	return distinct(s.Events(), func(e Event) string {
		if e.Protocol == UA {
			return e.CID
		}
		return e.ClientID
	})
}

// WaitFor polls cond after every request, until it holds or timeout
// passes, and reports whether it held.
func (s *Server) WaitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return cond()
		}
	}
}

func distinct(events []Event, key func(Event) string) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range events {
		if k := key(e); !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
