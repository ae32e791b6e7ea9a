package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strings"
	"unicode/utf8"
)

// GA4 Measurement Protocol limits (developers.google.com/analytics/devguides/
// collection/protocol/ga4/sending-events, "Limitations"): the sidecar
// builds requests within them (reporting/ga4.go), the receiver refuses
// what exceeds them (receiver/ga4.go).
const (
	// MaxGA4Events is the most events one request may carry.
	MaxGA4Events = 25
	// MaxGA4BodyBytes bounds a request body: it must be smaller than 130 kB.
	MaxGA4BodyBytes = 130_000
	// MaxGA4Params is the most params one event may have.
	MaxGA4Params = 25
	// MaxGA4NameLen is the longest event or param name.
	MaxGA4NameLen = 40
	// MaxGA4ValueLen is the longest string param value, in characters.
	MaxGA4ValueLen = 100
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

// CheckGA4Event checks an event against the GA4 Measurement Protocol
// rules before it is sent: a valid, unreserved name of at most 40
// characters; at most 25 params with valid, unreserved names; values that
// are strings of at most 100 characters or numbers. The error says what is
// wrong.
func CheckGA4Event(e Event) error {
	if err := CheckGA4Name(e.Name); err != nil {
		return fmt.Errorf("event name %q %w", e.Name, err)
	}
	if ga4ReservedEvents[e.Name] {
		return fmt.Errorf("event name %q is reserved by Google Analytics", e.Name)
	}
	if n := len(e.Params); n > MaxGA4Params {
		return fmt.Errorf("event %q has %d params, more than %d", e.Name, n, MaxGA4Params)
	}
	for _, k := range sortedKeys(e.Params) {
		if err := CheckGA4Name(k); err != nil {
			return fmt.Errorf("event %q: param name %q %w", e.Name, k, err)
		}
		if err := checkGA4Value(e.Params[k]); err != nil {
			return fmt.Errorf("event %q: param %q %w", e.Name, k, err)
		}
	}
	return nil
}

// CheckGA4Name checks an event or param name: the error completes
// `name %q ...`.
func CheckGA4Name(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("is empty")
	case len(name) > MaxGA4NameLen:
		return fmt.Errorf("is longer than %d characters (%d)", MaxGA4NameLen, len(name))
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

// checkGA4Value checks a value the sidecar sends.
func checkGA4Value(v any) error {
	switch v := v.(type) {
	case string:
		return checkGA4Text(v)
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

// checkGA4Text checks a string value: valid UTF-8 of at most 100
// characters.
func checkGA4Text(v string) error {
	if !utf8.ValidString(v) {
		return fmt.Errorf("is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(v); n > MaxGA4ValueLen {
		return fmt.Errorf("is %d characters, more than %d", n, MaxGA4ValueLen)
	}
	return nil
}

// ga4Event is an event as encoded on the wire (params never null).
type ga4Event struct {
	Name   string         `json:"name"`
	Params map[string]any `json:"params"`
}

// EncodeGA4Event is e as one element of a GA4 body's events, without HTML
// escaping (shorter bodies).
func EncodeGA4Event(e Event) ([]byte, error) {
	p := e.Params
	if p == nil {
		p = map[string]any{}
	}
	return MarshalJSON(ga4Event{Name: e.Name, Params: p})
}

// MarshalJSON encodes v without HTML escaping (shorter bodies) and without
// the encoder's trailing newline.
func MarshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// DecodeGA4Event reads one element of a GA4 body's events, as
// EncodeGA4Event wrote it, and checks it against the catalog (Check): the
// event with its params in the catalog's types, or why it is rejected.
func DecodeGA4Event(raw []byte) (Event, *Rejection) {
	var ev struct {
		Name   json.RawMessage `json:"name"`
		Params json.RawMessage `json:"params"`
	}
	if err := StrictJSON(raw, &ev); err != nil {
		return Event{}, Reject(ReasonBadValue, "", "an event must be an object with name and params")
	}
	var name string
	if err := json.Unmarshal(ev.Name, &name); err != nil || len(ev.Name) == 0 {
		return Event{}, Reject(ReasonBadName, "name", "an event's name must be a string")
	}
	params := map[string]any{}
	if len(ev.Params) > 0 && !isNull(ev.Params) {
		dec := json.NewDecoder(bytes.NewReader(ev.Params))
		dec.UseNumber()
		if err := dec.Decode(&params); err != nil {
			return Event{}, Reject(ReasonBadValue, "params", "event %q: params must be an object", Clip(name))
		}
	}
	return Check(name, params, false)
}

// StrictJSON decodes one JSON value and refuses trailing data.
func StrictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON value")
	}
	return nil
}

func isNull(raw []byte) bool { return string(bytes.TrimSpace(raw)) == "null" }

// Clip shortens a value quoted in a message.
func Clip(s string) string {
	const n = 40
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
