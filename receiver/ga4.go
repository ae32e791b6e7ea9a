package receiver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/mim-metrics/mim-metrics/contract"
)

// decoded is one ingest request, decoded and validated: the events kept and
// those dropped, each with its reason.
type decoded struct {
	ClientID string
	// TimestampMicros is the request's timestamp_micros; 0 when absent.
	TimestampMicros int64
	// Position is the request's place among its report's requests
	// (user_properties.mim_batch, sent by the sidecar to receivers); -1
	// when absent.
	Position int64
	Events   []contract.Event
	Dropped  []droppedEvent
}

// droppedEvent is an event left out of a good request.
type droppedEvent struct {
	Index int // position in the request
	Err   *contract.Rejection
}

// requestError is a request that is refused as a whole (400): the first
// problem, and the field it is in (a GA4 fieldPath).
type requestError struct {
	Field string
	// Code is GA4's validationCode for it.
	Code string
	msg  string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(field, format string, args ...any) *requestError {
	return &requestError{Field: field, Code: "VALUE_INVALID", msg: fmt.Sprintf(format, args...)}
}

func missing(field string) *requestError {
	return &requestError{Field: field, Code: "VALUE_REQUIRED", msg: field + " is missing"}
}

// ga4Body is the Measurement Protocol body. Other fields (user_id,
// consent, user_data...) are ignored, never stored, as GA ignores fields
// it does not use.
type ga4Body struct {
	ClientID           json.RawMessage `json:"client_id"`
	Events             json.RawMessage `json:"events"`
	UserProperties     json.RawMessage `json:"user_properties"`
	TimestampMicros    json.RawMessage `json:"timestamp_micros"`
	NonPersonalizedAds json.RawMessage `json:"non_personalized_ads"`
}

// decodeGA4 decodes and validates a GA4 Measurement Protocol body.
func decodeGA4(body []byte) (*decoded, *requestError) {
	var b ga4Body
	if err := contract.StrictJSON(body, &b); err != nil {
		return nil, badRequest("", "the body is not a JSON object: %v", err)
	}
	d := &decoded{Position: -1}
	if len(b.ClientID) == 0 || isNull(b.ClientID) {
		return nil, missing("client_id")
	}
	if err := json.Unmarshal(b.ClientID, &d.ClientID); err != nil {
		return nil, badRequest("client_id", "client_id must be a string")
	}
	if rerr := checkClientID(d.ClientID); rerr != nil {
		return nil, rerr
	}
	if len(b.TimestampMicros) > 0 && !isNull(b.TimestampMicros) {
		ts, err := parseTimestampMicros(b.TimestampMicros)
		if err != nil {
			return nil, badRequest("timestamp_micros", "timestamp_micros %v", err)
		}
		d.TimestampMicros = ts
	}
	if len(b.UserProperties) > 0 && !isNull(b.UserProperties) {
		var up map[string]json.RawMessage
		if err := json.Unmarshal(b.UserProperties, &up); err != nil {
			return nil, badRequest("user_properties", "user_properties must be an object")
		}
		if raw, ok := up["mim_batch"]; ok {
			var p struct{ Value int64 }
			if err := json.Unmarshal(raw, &p); err != nil || p.Value < 0 {
				return nil, badRequest("user_properties.mim_batch", "user_properties.mim_batch must be {\"value\": N}, N the request's position from 0")
			}
			d.Position = p.Value
		}
	}
	if len(b.NonPersonalizedAds) > 0 && !isNull(b.NonPersonalizedAds) {
		var npa bool
		if err := json.Unmarshal(b.NonPersonalizedAds, &npa); err != nil {
			return nil, badRequest("non_personalized_ads", "non_personalized_ads must be true or false")
		}
	}
	if len(b.Events) == 0 || isNull(b.Events) {
		return nil, missing("events")
	}
	var events []json.RawMessage
	if err := json.Unmarshal(b.Events, &events); err != nil {
		return nil, badRequest("events", "events must be an array")
	}
	switch {
	case len(events) == 0:
		return nil, badRequest("events", "events is empty")
	case len(events) > maxEvents:
		rerr := badRequest("events", "%d events, more than %d in one request", len(events), maxEvents)
		rerr.Code = "EXCEEDED_MAX_ENTITIES"
		return nil, rerr
	}
	for i, raw := range events {
		e, derr := contract.DecodeGA4Event(raw)
		if derr != nil {
			d.Dropped = append(d.Dropped, droppedEvent{Index: i, Err: derr})
			continue
		}
		d.Events = append(d.Events, e)
	}
	return d, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func checkClientID(id string) *requestError {
	switch {
	case id == "":
		return badRequest("client_id", "client_id is empty")
	case len(id) > maxClientIDLen:
		return badRequest("client_id", "client_id is longer than %d characters: it must be at most %d printable ASCII characters (a UUID, or GA's digits.digits)", maxClientIDLen, maxClientIDLen)
	}
	for i := range len(id) {
		if c := id[i]; c < 0x21 || c > 0x7e {
			return badRequest("client_id", "client_id must be at most %d printable ASCII characters, without spaces (a UUID, or GA's digits.digits): byte %d is 0x%02x", maxClientIDLen, i+1, c)
		}
	}
	return nil
}

// parseTimestampMicros reads a positive integer (GA4 accepts a number or a
// string of digits).
func parseTimestampMicros(raw json.RawMessage) (int64, error) {
	s := string(bytes.TrimSpace(raw))
	if len(s) > 1 && s[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, errors.New("must be an integer")
		}
	}
	ts, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ts <= 0 {
		return 0, errors.New("must be a positive integer (microseconds since 1970)")
	}
	return ts, nil
}

// validationMessage is one entry of the debug endpoint's answer, in GA4's
// shape.
type validationMessage struct {
	FieldPath      string `json:"fieldPath"`
	Description    string `json:"description"`
	ValidationCode string `json:"validationCode"`
}

// validationMessages lists what is wrong with a request, for
// /debug/mp/collect; empty when it would be stored whole.
func validationMessages(d *decoded, rerr *requestError) []validationMessage {
	msgs := []validationMessage{}
	if rerr != nil {
		return append(msgs, validationMessage{FieldPath: rerr.Field, Description: rerr.msg, ValidationCode: rerr.Code})
	}
	for _, dr := range d.Dropped {
		path := fmt.Sprintf("events[%d]", dr.Index)
		if dr.Err.Field != "" {
			path += "." + dr.Err.Field
		}
		code := "VALUE_INVALID"
		switch dr.Err.Reason {
		case reasonBadName, reasonUnknownEvent, reasonUnknownParam:
			code = "NAME_INVALID"
		case reasonTooManyParams:
			code = "EXCEEDED_MAX_ENTITIES"
		}
		msgs = append(msgs, validationMessage{FieldPath: path, Description: dr.Err.Error(), ValidationCode: code})
	}
	return msgs
}
