package reporting

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/metrics"
)

// GA4 Measurement Protocol limits (developers.google.com/analytics/devguides/
// collection/protocol/ga4/sending-events, "Limitations").
const (
	// MaxGA4Events is the most events one request may carry.
	MaxGA4Events = 25
	// maxGA4BodyBytes bounds a request body: it must be smaller than 130 kB.
	maxGA4BodyBytes = 130_000
	// maxGA4Params is the most params one event may have.
	maxGA4Params = 25
	// maxGA4NameLen is the longest event or param name.
	maxGA4NameLen = 40
	// maxGA4ValueLen is the longest string param value, in characters.
	maxGA4ValueLen = 100
)

var ga4NameRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// ga4ReservedPrefixes may not start an event or param name.
var ga4ReservedPrefixes = []string{"_", "firebase_", "ga_", "google_"}

// ga4ReservedEvents are event names Google Analytics reserves (Measurement
// Protocol guide, "Reserved names", plus the app-stream list of the event
// naming rules). Dropping a few more names than needed is harmless; none of
// MongooseIM's events is affected.
var ga4ReservedEvents = map[string]bool{
	"ad_activeview": true, "ad_click": true, "ad_exposure": true, "ad_impression": true,
	"ad_query": true, "ad_reward": true, "adunit_exposure": true, "app_background": true,
	"app_clear_data": true, "app_exception": true, "app_install": true, "app_remove": true,
	"app_store_refund": true, "app_store_subscription_cancel": true,
	"app_store_subscription_convert": true, "app_store_subscription_renew": true,
	"app_update": true, "app_upgrade": true, "dynamic_link_app_open": true,
	"dynamic_link_app_update": true, "dynamic_link_first_open": true, "error": true,
	"firebase_campaign": true, "firebase_in_app_message_action": true,
	"firebase_in_app_message_dismiss": true, "firebase_in_app_message_impression": true,
	"first_open": true, "first_visit": true, "in_app_purchase": true,
	"notification_dismiss": true, "notification_foreground": true, "notification_open": true,
	"notification_receive": true, "os_update": true, "screen_view": true,
	"session_start": true, "session_start_with_rollout": true, "user_engagement": true,
}

// validateEvent checks an event against the GA4 Measurement Protocol rules:
// a valid, unreserved name of at most 40 characters; at most 25 params with
// valid, unreserved names; values that are strings of at most 100
// characters or numbers. The error says what is wrong.
func validateEvent(e contract.Event) error {
	if err := checkGA4Name(e.Name); err != nil {
		return fmt.Errorf("event name %q %w", e.Name, err)
	}
	if ga4ReservedEvents[e.Name] {
		return fmt.Errorf("event name %q is reserved by Google Analytics", e.Name)
	}
	if n := len(e.Params); n > maxGA4Params {
		return fmt.Errorf("event %q has %d params, more than %d", e.Name, n, maxGA4Params)
	}
	for _, k := range sortedKeys(e.Params) {
		if err := checkGA4Name(k); err != nil {
			return fmt.Errorf("event %q: param name %q %w", e.Name, k, err)
		}
		if err := checkGA4Value(e.Params[k]); err != nil {
			return fmt.Errorf("event %q: param %q %w", e.Name, k, err)
		}
	}
	return nil
}

func checkGA4Name(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("is empty")
	case len(name) > maxGA4NameLen:
		return fmt.Errorf("is %d characters, more than %d", len(name), maxGA4NameLen)
	case !ga4NameRe.MatchString(name):
		return fmt.Errorf("must start with a letter and hold only letters, digits and underscores")
	}
	lower := strings.ToLower(name)
	for _, p := range ga4ReservedPrefixes {
		if strings.HasPrefix(lower, p) {
			return fmt.Errorf("starts with the reserved prefix %q", p)
		}
	}
	return nil
}

func checkGA4Value(v any) error {
	switch v := v.(type) {
	case string:
		if !utf8.ValidString(v) {
			return fmt.Errorf("value is not valid UTF-8")
		}
		if n := utf8.RuneCountInString(v); n > maxGA4ValueLen {
			return fmt.Errorf("value is %d characters, more than %d", n, maxGA4ValueLen)
		}
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
	case float32:
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("value %v is not a finite number", v)
		}
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("value %v is not a finite number", v)
		}
	default:
		return fmt.Errorf("value has type %T; only strings and numbers can be sent", v)
	}
	return nil
}

// sanitizeReports validates every event of every report (validateEvent)
// and returns copies without the invalid ones, plus what was dropped.
func sanitizeReports(reports []metrics.NodeReport) ([]metrics.NodeReport, []Dropped) {
	out := make([]metrics.NodeReport, len(reports))
	var dropped []Dropped
	for i, r := range reports {
		out[i] = r
		out[i].Events = nil
		for _, e := range r.Events {
			if err := validateEvent(e); err != nil {
				dropped = append(dropped, Dropped{Node: r.Node, Event: e.Name, Reason: err.Error()})
				continue
			}
			out[i].Events = append(out[i].Events, e)
		}
	}
	return out, dropped
}

// ga4Event is an event as encoded on the wire (params never null).
type ga4Event struct {
	Name   string         `json:"name"`
	Params map[string]any `json:"params"`
}

func wireEvent(e contract.Event) ga4Event {
	p := e.Params
	if p == nil {
		p = map[string]any{}
	}
	return ga4Event{Name: e.Name, Params: p}
}

// marshalJSON encodes v without HTML escaping (shorter bodies) and without
// the encoder's trailing newline.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// buildGA4 builds POST {endpoint}/mp/collect requests: per node, batches of
// at most 25 events whose body stays under 130 kB. Unless at is zero, the
// node at index i has timestamp_micros at + i µs in all its requests, and
// each request says its position among the node's requests
// (user_properties.mim_batch, from 0): two requests of one report with the
// same events (two host types with the same modules) are then still two
// requests to the receiver, and a retry is one.
func buildGA4(dest Destination, base *url.URL, clientID string, at time.Time, reports []metrics.NodeReport) ([]Request, []Dropped) {
	u := endpointURL(base, "/mp/collect")
	u.RawQuery = url.Values{"measurement_id": {dest.ID}, "api_secret": {dest.Secret}}.Encode()
	cid, _ := marshalJSON(clientID) // a string always encodes
	const (
		eventsStart = `,"events":[`
		suffix      = `]}`
		batchStart  = `,"user_properties":{"mim_batch":{"value":`
		batchEnd    = `}}`
	)

	var reqs []Request
	var dropped []Dropped
	for i, r := range reports {
		head := append([]byte(`{"client_id":`), cid...)
		overhead := len(eventsStart) + len(suffix) // with head: the most bytes around the events
		if !at.IsZero() {
			head = strconv.AppendInt(append(head, `,"timestamp_micros":`...), at.UnixMicro()+int64(i), 10)
			overhead += len(batchStart) + 20 + len(batchEnd) // 20: the longest int64
		}
		var batch [][]byte
		size := 0     // bytes of the events in batch, with separating commas
		position := 0 // of the next request among the node's
		flush := func() {
			if len(batch) == 0 {
				return
			}
			body := make([]byte, 0, len(head)+overhead+size)
			body = append(body, head...)
			if !at.IsZero() {
				body = strconv.AppendInt(append(body, batchStart...), int64(position), 10)
				body = append(body, batchEnd...)
			}
			body = append(body, eventsStart...)
			body = append(body, bytes.Join(batch, []byte(","))...)
			body = append(body, suffix...)
			position++
			reqs = append(reqs, Request{
				Method: http.MethodPost,
				URL:    u,
				Header: http.Header{"Content-Type": {"application/json"}, "User-Agent": {userAgent}},
				Body:   body,
				Node:   r.Node,
				Events: len(batch),
				secret: dest.Secret,
			})
			batch, size = nil, 0
		}
		for _, e := range r.Events {
			if err := validateEvent(e); err != nil {
				dropped = append(dropped, Dropped{Node: r.Node, Event: e.Name, Reason: err.Error()})
				continue
			}
			enc, err := marshalJSON(wireEvent(e))
			if err != nil {
				dropped = append(dropped, Dropped{Node: r.Node, Event: e.Name, Reason: "cannot encode as JSON: " + err.Error()})
				continue
			}
			if len(head)+overhead+len(enc) >= maxGA4BodyBytes {
				dropped = append(dropped, Dropped{Node: r.Node, Event: e.Name,
					Reason: fmt.Sprintf("encoded event is %d bytes; a request body must be smaller than %d", len(enc), maxGA4BodyBytes)})
				continue
			}
			extra := len(enc)
			if len(batch) > 0 {
				extra++ // comma
			}
			if len(batch) == MaxGA4Events || len(head)+overhead+size+extra >= maxGA4BodyBytes {
				flush()
				extra = len(enc)
			}
			batch = append(batch, enc)
			size += extra
		}
		flush()
	}
	return reqs, dropped
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
