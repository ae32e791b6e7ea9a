package fakega

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Universal Analytics batch limits, from the Measurement Protocol v1
// developer guide: "A maximum of 20 hits can be specified per request. The
// total size of all hit payloads cannot be greater than 16K bytes. No single
// hit payload can be greater than 8K bytes."
const (
	uaMaxHits      = 20
	uaMaxBodyBytes = 16 * 1024
	uaMaxHitBytes  = 8 * 1024
)

var uaTrackingIDRe = regexp.MustCompile(`^UA-\d+-\d+$`)

// checkUA checks a /batch request and extracts its hits.
func checkUA(r *http.Request, body []byte) ([]Event, []Violation) {
	var vs []Violation
	add := func(field, code, format string, args ...any) {
		vs = append(vs, Violation{Field: field, Code: code, Description: fmt.Sprintf(format, args...)})
	}
	if r.Method != http.MethodPost {
		add("method", "METHOD", "method %s, expected POST", r.Method)
	}
	if len(body) > uaMaxBodyBytes {
		add("body", "BODY_TOO_LARGE", "body is %d bytes; at most %d", len(body), uaMaxBodyBytes)
	}
	text := strings.TrimSuffix(string(body), "\n")
	if text == "" {
		add("body", "VALUE_REQUIRED", "no hits")
		return nil, vs
	}
	lines := strings.Split(text, "\n")
	if len(lines) > uaMaxHits {
		add("body", "EXCEEDED_MAX_ENTITIES", "%d hits; at most %d per batch", len(lines), uaMaxHits)
	}
	var events []Event
	for i, line := range lines {
		field := fmt.Sprintf("hit[%d]", i)
		if len(line) > uaMaxHitBytes {
			add(field, "VALUE_OUT_OF_BOUNDS", "hit is %d bytes; at most %d", len(line), uaMaxHitBytes)
		}
		if line == "" {
			add(field, "VALUE_REQUIRED", "empty hit line")
			continue
		}
		q, err := url.ParseQuery(line)
		if err != nil {
			add(field, "VALUE_INVALID", "hit is not a URL-encoded query: %v", err)
			continue
		}
		for k, v := range q {
			if len(v) != 1 {
				add(field+"."+k, "VALUE_INVALID", "%s given %d times", k, len(v))
			}
		}
		if v := q.Get("v"); v != "1" {
			add(field+".v", "VALUE_INVALID", "v=%q, expected 1", v)
		}
		if tid := q.Get("tid"); !uaTrackingIDRe.MatchString(tid) {
			add(field+".tid", "VALUE_INVALID", "tid=%q, expected UA-XXXX-Y", tid)
		}
		if t := q.Get("t"); t != "event" {
			add(field+".t", "VALUE_INVALID", "t=%q, expected event", t)
		}
		for _, k := range []string{"cid", "ec", "ea"} {
			if q.Get(k) == "" {
				add(field+"."+k, "VALUE_REQUIRED", "%s is required", k)
			}
		}
		events = append(events, Event{
			Protocol:   UA,
			TrackingID: q.Get("tid"),
			CID:        q.Get("cid"),
			Category:   q.Get("ec"),
			Action:     q.Get("ea"),
			Label:      q.Get("el"),
		})
	}
	return events, vs
}
