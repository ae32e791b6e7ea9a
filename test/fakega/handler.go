package fakega

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxReadBody is how much of a body the fake reads; anything longer is
// far beyond every limit anyway.
const maxReadBody = 4 << 20

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxReadBody))
	req := Request{
		Method:   r.Method,
		Path:     r.URL.Path,
		RawQuery: r.URL.RawQuery,
		Header:   r.Header.Clone(),
		Body:     body,
	}
	var events []Event
	var vs []Violation
	switch {
	case err != nil:
		vs = append(vs, Violation{Field: "body", Code: "BODY", Description: "reading the body failed: " + err.Error()})
	case r.URL.Path == "/mp/collect" || r.URL.Path == "/debug/mp/collect":
		req.Protocol, req.Debug = GA4, r.URL.Path == "/debug/mp/collect"
		events, vs = checkGA4(r, body)
	case r.URL.Path == "/batch":
		req.Protocol = UA
		events, vs = checkUA(r, body)
	default:
		vs = append(vs, Violation{Field: "path", Code: "PATH", Description: "unknown path " + r.URL.Path + " (expected /mp/collect, /debug/mp/collect or /batch)"})
	}

	s.mu.Lock()
	n := len(s.requests)
	req.N = n
	for i := range vs {
		vs[i].Request = n
	}
	req.Violations = vs
	var beh Behavior
	switch {
	case len(s.script) > 0:
		beh, s.script = s.script[0], s.script[1:]
	case s.responder != nil:
		beh = s.responder(n)
	default:
		beh = s.defaultBeh
	}
	req.Behavior = beh
	s.requests = append(s.requests, req)
	first := len(s.events)
	for _, e := range events {
		e.Request = n
		s.events = append(s.events, e)
	}
	s.notifyLocked()
	s.mu.Unlock()

	status := beh.Status
	if status == 0 {
		status = http.StatusOK
		if req.Protocol == UA {
			status = http.StatusNoContent
		}
	}
	// Protocol-level errors get the answer Google would give.
	for _, v := range vs {
		switch v.Code {
		case "PATH":
			status = http.StatusNotFound
		case "METHOD":
			status = http.StatusMethodNotAllowed
		}
	}

	switch {
	case beh.CloseConn:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // closes the connection without a response
	case beh.Hang:
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
		return
	case beh.Delay > 0:
		t := time.NewTimer(beh.Delay)
		defer t.Stop()
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		case <-t.C:
		}
	}

	if status >= 200 && status <= 299 {
		s.mu.Lock()
		s.requests[n].Accepted = true
		for i := first; i < first+len(events); i++ {
			s.events[i].Accepted = true
		}
		s.notifyLocked()
		s.mu.Unlock()
	}
	if req.Debug && status == http.StatusOK {
		writeValidation(w, vs)
		return
	}
	w.WriteHeader(status)
}

// notifyLocked wakes WaitFor callers. s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// writeValidation answers /debug/mp/collect like Google's validation server.
func writeValidation(w http.ResponseWriter, vs []Violation) {
	type msg struct {
		FieldPath      string `json:"fieldPath"`
		Description    string `json:"description"`
		ValidationCode string `json:"validationCode"`
	}
	out := struct {
		ValidationMessages []msg `json:"validationMessages"`
	}{ValidationMessages: []msg{}}
	for _, v := range vs {
		out.ValidationMessages = append(out.ValidationMessages, msg{FieldPath: v.Field, Description: v.Description, ValidationCode: v.Code})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// hasMediaType reports whether a Content-Type header names mediaType.
func hasMediaType(header, mediaType string) bool {
	mt, _, _ := strings.Cut(header, ";")
	return strings.EqualFold(strings.TrimSpace(mt), mediaType)
}
