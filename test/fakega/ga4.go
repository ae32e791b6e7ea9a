package fakega

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// GA4 Measurement Protocol limits, from Google's "Sending events" guide.
const (
	ga4MaxEvents    = 25
	ga4MaxParams    = 25
	ga4MaxNameLen   = 40
	ga4MaxValueLen  = 100
	ga4MaxBodyBytes = 130_000 // "The post body must be smaller than 130kB"
)

var (
	ga4NameRe          = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	ga4MeasurementIDRe = regexp.MustCompile(`^G-[A-Z0-9]+$`)
	ga4ReservedPrefix  = []string{"_", "firebase_", "ga_", "google_"}
	// Reserved event names of the Measurement Protocol guide.
	ga4ReservedEvents = map[string]bool{
		"ad_activeview": true, "ad_click": true, "ad_exposure": true, "ad_impression": true,
		"ad_query": true, "adunit_exposure": true, "app_clear_data": true, "app_install": true,
		"app_update": true, "app_remove": true, "error": true, "first_open": true,
		"first_visit": true, "in_app_purchase": true, "notification_dismiss": true,
		"notification_foreground": true, "notification_open": true, "notification_receive": true,
		"os_update": true, "screen_view": true, "session_start": true, "user_engagement": true,
	}
	// Top-level body fields the Measurement Protocol defines.
	ga4BodyFields = map[string]bool{
		"client_id": true, "app_instance_id": true, "user_id": true, "timestamp_micros": true,
		"user_properties": true, "consent": true, "non_personalized_ads": true, "events": true,
		"user_location": true, "device": true, "user_data": true, "validation_behavior": true,
	}
)

// checkGA4 checks a /mp/collect or /debug/mp/collect request and extracts
// its events.
func checkGA4(r *http.Request, body []byte) ([]Event, []Violation) {
	var vs []Violation
	add := func(field, code, format string, args ...any) {
		vs = append(vs, Violation{Field: field, Code: code, Description: fmt.Sprintf(format, args...)})
	}
	if r.Method != http.MethodPost {
		add("method", "METHOD", "method %s, expected POST", r.Method)
	}
	if ct := r.Header.Get("Content-Type"); !hasMediaType(ct, "application/json") {
		add("Content-Type", "CONTENT_TYPE", "content type %q, expected application/json", ct)
	}

	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		add("query", "QUERY", "query does not parse: %v", err)
	}
	for k, v := range q {
		switch {
		case k != "measurement_id" && k != "api_secret":
			add("query."+k, "QUERY", "unexpected query parameter %q (expected exactly measurement_id and api_secret)", k)
		case len(v) != 1:
			add("query."+k, "QUERY", "%s given %d times", k, len(v))
		}
	}
	mid, secret := q.Get("measurement_id"), q.Get("api_secret")
	if !ga4MeasurementIDRe.MatchString(mid) {
		add("query.measurement_id", "QUERY", "measurement_id %q is missing or not of the form G-XXXXXXXXXX", mid)
	}
	if secret == "" {
		add("query.api_secret", "QUERY", "api_secret is missing or empty")
	}

	if len(body) >= ga4MaxBodyBytes {
		add("body", "BODY_TOO_LARGE", "body is %d bytes; it must be smaller than %d", len(body), ga4MaxBodyBytes)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		add("body", "JSON", "body is not a JSON object: %v", err)
		return nil, vs
	}
	for _, k := range sortedRawKeys(top) {
		if !ga4BodyFields[k] {
			add(k, "NAME_INVALID", "unknown body field %q", k)
		}
	}
	var clientID string
	if raw, ok := top["client_id"]; !ok {
		add("client_id", "VALUE_REQUIRED", "client_id is required")
	} else if err := json.Unmarshal(raw, &clientID); err != nil {
		add("client_id", "VALUE_INVALID", "client_id must be a string")
	} else if clientID == "" {
		add("client_id", "VALUE_REQUIRED", "client_id is empty")
	}

	raw, ok := top["events"]
	if !ok {
		add("events", "VALUE_REQUIRED", "events is required")
		return nil, vs
	}
	var rawEvents []json.RawMessage
	if err := json.Unmarshal(raw, &rawEvents); err != nil {
		add("events", "VALUE_INVALID", "events must be an array")
		return nil, vs
	}
	switch n := len(rawEvents); {
	case n == 0:
		add("events", "VALUE_REQUIRED", "events is empty; at least one event is required")
	case n > ga4MaxEvents:
		add("events", "EXCEEDED_MAX_ENTITIES", "%d events; at most %d per request", n, ga4MaxEvents)
	}

	var events []Event
	for i, re := range rawEvents {
		field := fmt.Sprintf("events[%d]", i)
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(re, &obj); err != nil {
			add(field, "VALUE_INVALID", "event must be an object")
			continue
		}
		for _, k := range sortedRawKeys(obj) {
			if k != "name" && k != "params" && k != "timestamp_micros" {
				add(field+"."+k, "NAME_INVALID", "unknown event field %q", k)
			}
		}
		ev := Event{Protocol: GA4, MeasurementID: mid, APISecret: secret, ClientID: clientID, Params: map[string]any{}}
		if err := json.Unmarshal(obj["name"], &ev.Name); err != nil || obj["name"] == nil {
			add(field+".name", "VALUE_REQUIRED", "event name is missing or not a string")
		} else {
			checkName(&vs, field+".name", "event name", ev.Name)
			if ga4ReservedEvents[ev.Name] {
				add(field+".name", "NAME_RESERVED", "event name %q is reserved", ev.Name)
			}
		}
		if rp, ok := obj["params"]; ok {
			var params map[string]json.RawMessage
			if err := json.Unmarshal(rp, &params); err != nil || params == nil {
				add(field+".params", "VALUE_INVALID", "params must be an object")
			} else {
				if len(params) > ga4MaxParams {
					add(field+".params", "EXCEEDED_MAX_ENTITIES", "%d params; at most %d per event", len(params), ga4MaxParams)
				}
				for _, k := range sortedRawKeys(params) {
					pf := field + ".params." + k
					checkName(&vs, pf, "param name", k)
					v, err := decodeValue(params[k])
					if err != nil {
						add(pf, "VALUE_INVALID", "%v", err)
						continue
					}
					if s, ok := v.(string); ok && utf8.RuneCountInString(s) > ga4MaxValueLen {
						add(pf, "VALUE_OUT_OF_BOUNDS", "value is %d characters; at most %d", utf8.RuneCountInString(s), ga4MaxValueLen)
					}
					ev.Params[k] = v
				}
			}
		}
		events = append(events, ev)
	}
	return events, vs
}

func checkName(vs *[]Violation, field, what, name string) {
	add := func(code, format string, args ...any) {
		*vs = append(*vs, Violation{Field: field, Code: code, Description: fmt.Sprintf(format, args...)})
	}
	if len(name) > ga4MaxNameLen {
		add("VALUE_OUT_OF_BOUNDS", "%s %q is %d characters; at most %d", what, name, len(name), ga4MaxNameLen)
	}
	if !ga4NameRe.MatchString(name) {
		add("NAME_INVALID", "%s %q must start with a letter and hold only letters, digits and underscores", what, name)
	}
	for _, p := range ga4ReservedPrefix {
		if strings.HasPrefix(name, p) {
			add("NAME_RESERVED", "%s %q starts with the reserved prefix %q", what, name, p)
		}
	}
}

// decodeValue decodes a param value: a string, or a number (int64 when
// integral, float64 otherwise). Anything else is an error.
func decodeValue(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i, nil
		}
		f, err := v.Float64()
		if err != nil {
			return nil, fmt.Errorf("number %s out of range", v)
		}
		return f, nil
	default:
		return nil, fmt.Errorf("value %s is neither a string nor a number", raw)
	}
}

func sortedRawKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
