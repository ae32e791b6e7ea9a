package receiver

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mim-metrics/mim-metrics/contract"
)

// GA4 Measurement Protocol limits, the same the sidecar keeps to
// (reporting/ga4.go).
const (
	maxEvents    = 25
	maxBodyBytes = 130_000 // a body must be smaller than this
	maxParams    = 25
	maxNameLen   = 40
	maxValueLen  = 100
	// maxClientIDLen bounds a client id (MongooseIM's are UUIDs, 36
	// characters, or "ephemeral-" and one).
	maxClientIDLen = 100
)

// Drop reasons: the short, stable names under which dropped events are
// counted in the ingest health. The detail goes to the debug endpoint.
const (
	reasonBadName       = "invalid name"
	reasonUnknownEvent  = "unknown event"
	reasonTooManyParams = "too many params"
	reasonUnknownParam  = "unknown param"
	reasonBadValue      = "invalid value"
	reasonWrongType     = "wrong value type"
	reasonImplausible   = "implausible value"
)

// eventSchema is one catalog event: its params, and the plausible range
// of those that are numbers.
type eventSchema struct {
	params  map[string]bool
	numbers map[string]contract.Range
}

var schema = buildSchema()

func buildSchema() map[string]eventSchema {
	out := map[string]eventSchema{}
	for _, spec := range contract.Catalog() {
		s := eventSchema{params: map[string]bool{}, numbers: map[string]contract.Range{}}
		for _, p := range spec.Params {
			s.params[p] = true
		}
		for _, p := range spec.Numbers {
			r, ok := spec.Ranges[p]
			if !ok {
				panic(fmt.Sprintf("receiver: event %s: number %s has no plausible range (contract/erl)", spec.Name, p))
			}
			s.numbers[p] = r
		}
		out[spec.Name] = s
	}
	return out
}

var (
	nameRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	// versionRe: MongooseIM ("6.2.1", "6.2.1-12-gabc1234") and ejabberd
	// ("23.01") version strings.
	versionRe = regexp.MustCompile(`^[0-9]{1,4}(\.[0-9]{1,4}){1,3}([-+~][0-9A-Za-z][0-9A-Za-z.+~-]{0,40})?$`)
	// uptimeRe: MongooseIM's DDDD-HH:MM:SS.
	uptimeRe = regexp.MustCompile(`^[0-9]{4,5}-([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$`)
	// atomRe: module, backend and other values that are Erlang atoms.
	atomRe = regexp.MustCompile(`^[a-z][A-Za-z0-9_@.]{0,99}$`)
)

// dropError says why an event is dropped: Reason is the counted name,
// Field the offending field (as a GA4 fieldPath suffix), the message the
// detail.
type dropError struct {
	Reason string
	Field  string
	msg    string
}

func (e *dropError) Error() string { return e.msg }

func drop(reason, field, format string, args ...any) *dropError {
	return &dropError{Reason: reason, Field: field, msg: fmt.Sprintf(format, args...)}
}

// checkEvent validates a decoded event against GA4's limits, the catalog
// and the plausibility rules, and returns it with its params converted to
// the catalog's types (int64 numbers, strings). Param values come as
// decoded by encoding/json with UseNumber (json.Number), or, when text is
// true, as strings (UA hits carry every value as text).
func checkEvent(name string, params map[string]any, text bool) (contract.Event, *dropError) {
	if err := checkName(name); err != "" {
		return contract.Event{}, drop(reasonBadName, "name", "event name %q %s", clip(name), err)
	}
	s, ok := schema[name]
	if !ok {
		return contract.Event{}, drop(reasonUnknownEvent, "name", "event %q is not one of MongooseIM's system metrics events", name)
	}
	if len(params) > maxParams {
		return contract.Event{}, drop(reasonTooManyParams, "params", "event %q has %d params, more than %d", name, len(params), maxParams)
	}
	out := make(map[string]any, len(params))
	for _, k := range sortedKeys(params) {
		if err := checkName(k); err != "" {
			return contract.Event{}, drop(reasonBadName, "params", "event %q: param name %q %s", name, clip(k), err)
		}
		if !s.params[k] {
			return contract.Event{}, drop(reasonUnknownParam, "params."+k, "event %q has no param %q", name, k)
		}
		r, number := s.numbers[k]
		v, derr := convertValue(name, k, params[k], number, text)
		if derr != nil {
			return contract.Event{}, derr
		}
		if n, ok := v.(int64); ok && !r.Contains(n) {
			return contract.Event{}, drop(reasonImplausible, "params."+k,
				"event %q: param %q is %d, outside what a node reports (%d to %d)", name, k, n, r.Min, r.Max)
		}
		out[k] = v
	}
	e := contract.Event{Name: name, Params: out}
	if derr := checkPlausible(e); derr != nil {
		return contract.Event{}, derr
	}
	return e, nil
}

func checkName(name string) string {
	switch {
	case name == "":
		return "is empty"
	case len(name) > maxNameLen:
		return fmt.Sprintf("is longer than %d characters", maxNameLen)
	case !nameRe.MatchString(name):
		return "must start with a letter and hold only letters, digits and underscores"
	}
	lower := strings.ToLower(name)
	for _, p := range []string{"_", "firebase_", "ga_", "google_"} {
		if strings.HasPrefix(lower, p) {
			return fmt.Sprintf("starts with the reserved prefix %q", p)
		}
	}
	return ""
}

// convertValue gives a param's value the catalog's type.
func convertValue(event, param string, v any, number, text bool) (any, *dropError) {
	field := "params." + param
	if number {
		var n int64
		var err error
		switch v := v.(type) {
		case json.Number:
			n, err = strconv.ParseInt(string(v), 10, 64)
		case string:
			if !text {
				return nil, drop(reasonWrongType, field, "event %q: param %q must be an integer, got a string", event, param)
			}
			n, err = strconv.ParseInt(v, 10, 64)
		case int64:
			n = v
		default:
			return nil, drop(reasonWrongType, field, "event %q: param %q must be an integer, got %s", event, param, typeName(v))
		}
		if err != nil {
			return nil, drop(reasonWrongType, field, "event %q: param %q must be an integer, got %q", event, param, clip(fmt.Sprint(v)))
		}
		return n, nil
	}
	str, ok := v.(string)
	if !ok {
		return nil, drop(reasonWrongType, field, "event %q: param %q must be a string, got %s", event, param, typeName(v))
	}
	if !utf8.ValidString(str) {
		return nil, drop(reasonBadValue, field, "event %q: param %q is not valid UTF-8", event, param)
	}
	if n := utf8.RuneCountInString(str); n > maxValueLen {
		return nil, drop(reasonBadValue, field, "event %q: param %q is %d characters, more than %d", event, param, n, maxValueLen)
	}
	return str, nil
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case json.Number, int64, float64:
		return "a number"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// atomParams are the params whose values are Erlang atoms (module and
// backend names, modes): anything else (markup, spaces) is not what
// MongooseIM sends.
var atomParams = map[string]map[string]bool{
	"module_with_opt": {"module": true, "backend": true, "online_backend": true},
	"tls_option":      {"mode": true, "module": true},
	"outgoing_pool":   {"value": true},
	"cluster":         {"config_type": true},
	"xmpp_stanza_count": {
		"stanza_type": true,
	},
}

// checkPlausible drops events whose values MongooseIM cannot have sent:
// odd names, version strings or uptimes (numbers out of their range are
// dropped by checkEvent).
func checkPlausible(e contract.Event) *dropError {
	p := e.Params
	for k := range atomParams[e.Name] {
		if v, ok := p[k].(string); ok && !atomRe.MatchString(v) {
			return drop(reasonImplausible, "params."+k, "event %q: param %q is not a name MongooseIM uses", e.Name, k)
		}
	}
	if e.Name == "cluster" {
		if v, ok := p["version"].(string); ok && !versionRe.MatchString(v) {
			return drop(reasonImplausible, "params.version", "event \"cluster\": version %q is not a server version (such as 6.2.1)", clip(v))
		}
		if v, ok := p["uptime"].(string); ok && !uptimeRe.MatchString(v) {
			return drop(reasonImplausible, "params.uptime", "event \"cluster\": uptime %q is not DDDD-HH:MM:SS", clip(v))
		}
	}
	return nil
}

// clip shortens a value quoted in a message.
func clip(s string) string {
	const n = 40
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
