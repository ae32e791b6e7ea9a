package contract

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
)

// Reasons an event is rejected: the short, stable names under which the
// receiver counts dropped events in its ingest health. The detail is the
// Rejection's message.
const (
	ReasonBadName       = "invalid name"
	ReasonUnknownEvent  = "unknown event"
	ReasonTooManyParams = "too many params"
	ReasonUnknownParam  = "unknown param"
	ReasonBadValue      = "invalid value"
	ReasonWrongType     = "wrong value type"
	ReasonImplausible   = "implausible value"
)

// Rejection says why an event is not one a node can have sent: Reason is
// the counted name, Field the offending field (as a GA4 fieldPath suffix:
// name, params, params.value...), the message the detail.
type Rejection struct {
	Reason string
	Field  string
	msg    string
}

func (r *Rejection) Error() string { return r.msg }

// Reject is a Rejection for reason: what is wrong with field, said by
// format and args.
func Reject(reason, field, format string, args ...any) *Rejection {
	return &Rejection{Reason: reason, Field: field, msg: fmt.Sprintf(format, args...)}
}

// eventRules are one catalog event's rules: its params, the plausible
// range of those that are numbers, and those that are atoms.
type eventRules struct {
	params  map[string]bool
	numbers map[string]Range
	atoms   map[string]bool
}

// rules are the catalog's, by event name.
var rules = buildRules(catalog)

func buildRules(specs []EventSpec) map[string]eventRules {
	out := map[string]eventRules{}
	for _, spec := range specs {
		r := eventRules{params: map[string]bool{}, numbers: map[string]Range{}, atoms: map[string]bool{}}
		for _, p := range spec.Params {
			r.params[p] = true
		}
		for _, p := range spec.Numbers {
			rg, ok := spec.Ranges[p]
			if !ok {
				panic(fmt.Sprintf("contract: event %s: number %s has no plausible range (contract/erl)", spec.Name, p))
			}
			r.numbers[p] = rg
		}
		for _, p := range spec.Atoms {
			r.atoms[p] = true
		}
		out[spec.Name] = r
	}
	return out
}

var (
	// versionRe: MongooseIM ("6.2.1", "6.2.1-12-gabc1234") and ejabberd
	// ("23.01") version strings.
	versionRe = regexp.MustCompile(`^[0-9]{1,4}(\.[0-9]{1,4}){1,3}([-+~][0-9A-Za-z][0-9A-Za-z.+~-]{0,40})?$`)
	// uptimeRe: MongooseIM's DDDD-HH:MM:SS.
	uptimeRe = regexp.MustCompile(`^[0-9]{4,5}-([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$`)
	// atomRe: the values of atom params (module, backend and other names).
	atomRe = regexp.MustCompile(`^[a-z][A-Za-z0-9_@.]{0,99}$`)
)

// Check validates an event that came over the wire against GA4's limits
// and the catalog's rules (its params, numbers in their declared ranges,
// atoms, the cluster's version and uptime), and returns it with its
// params in the catalog's types: int64 numbers, strings. Param values
// come as decoded by encoding/json (json.Number, or a float64 that is a
// whole number), as Go integers, or, when text is true, as strings (UA hits carry every value as
// text).
func Check(name string, params map[string]any, text bool) (Event, *Rejection) {
	if err := CheckGA4Name(name); err != nil {
		return Event{}, Reject(ReasonBadName, "name", "event name %q %s", Clip(name), err)
	}
	r, ok := rules[name]
	if !ok {
		return Event{}, Reject(ReasonUnknownEvent, "name", "event %q is not one of MongooseIM's system metrics events", name)
	}
	if len(params) > MaxGA4Params {
		return Event{}, Reject(ReasonTooManyParams, "params", "event %q has %d params, more than %d", name, len(params), MaxGA4Params)
	}
	out := make(map[string]any, len(params))
	for _, k := range sortedKeys(params) {
		if err := CheckGA4Name(k); err != nil {
			return Event{}, Reject(ReasonBadName, "params", "event %q: param name %q %s", name, Clip(k), err)
		}
		if !r.params[k] {
			return Event{}, Reject(ReasonUnknownParam, "params."+k, "event %q has no param %q", name, k)
		}
		rg, number := r.numbers[k]
		v, rej := typedValue(name, k, params[k], number, text)
		if rej != nil {
			return Event{}, rej
		}
		switch v := v.(type) {
		case int64:
			if !rg.Contains(v) {
				return Event{}, Reject(ReasonImplausible, "params."+k,
					"event %q: param %q is %d, outside what a node reports (%d to %d)", name, k, v, rg.Min, rg.Max)
			}
		case string:
			if r.atoms[k] && !atomRe.MatchString(v) {
				return Event{}, Reject(ReasonImplausible, "params."+k, "event %q: param %q is not a name MongooseIM uses", name, k)
			}
		}
		out[k] = v
	}
	if name == Cluster {
		if v, ok := out["version"].(string); ok && !versionRe.MatchString(v) {
			return Event{}, Reject(ReasonImplausible, "params.version", "event %q: version %q is not a server version (such as 6.2.1)", name, Clip(v))
		}
		if v, ok := out["uptime"].(string); ok && !uptimeRe.MatchString(v) {
			return Event{}, Reject(ReasonImplausible, "params.uptime", "event %q: uptime %q is not DDDD-HH:MM:SS", name, Clip(v))
		}
	}
	return Event{Name: name, Params: out}, nil
}

// typedValue gives a param's value the catalog's type.
func typedValue(event, param string, v any, number, text bool) (any, *Rejection) {
	field := "params." + param
	if number {
		var n int64
		var err error
		switch v := v.(type) {
		case json.Number:
			n, err = strconv.ParseInt(string(v), 10, 64)
		case string:
			if !text {
				return nil, Reject(ReasonWrongType, field, "event %q: param %q must be an integer, got a string", event, param)
			}
			n, err = strconv.ParseInt(v, 10, 64)
		case int64:
			n = v
		case int, float64:
			var ok bool
			if n, ok = Int(v); !ok {
				return nil, Reject(ReasonWrongType, field, "event %q: param %q must be an integer, got %v", event, param, v)
			}
		default:
			return nil, Reject(ReasonWrongType, field, "event %q: param %q must be an integer, got %s", event, param, typeName(v))
		}
		if err != nil {
			return nil, Reject(ReasonWrongType, field, "event %q: param %q must be an integer, got %q", event, param, Clip(fmt.Sprint(v)))
		}
		return n, nil
	}
	str, ok := v.(string)
	if !ok {
		return nil, Reject(ReasonWrongType, field, "event %q: param %q must be a string, got %s", event, param, typeName(v))
	}
	if err := checkGA4Text(str); err != nil {
		return nil, Reject(ReasonBadValue, field, "event %q: param %q %s", event, param, err)
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
