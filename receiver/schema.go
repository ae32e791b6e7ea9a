package receiver

import "github.com/mim-metrics/mim-metrics/contract"

// The limits the receiver refuses a request beyond: GA4's (contract/ga4.go)
// and UA's (contract/ua.go), as the sidecar keeps to them.
const (
	maxEvents      = contract.MaxGA4Events
	maxBodyBytes   = contract.MaxGA4BodyBytes // a body must be smaller than this
	maxUAHits      = contract.MaxUAHits
	maxUABodyBytes = contract.MaxUABatchBytes
	// maxClientIDLen bounds a client id (MongooseIM's are UUIDs, 36
	// characters, or "ephemeral-" and one).
	maxClientIDLen = 100
)

// Drop reasons: the short, stable names under which dropped events are
// counted in the ingest health (contract.Check says why an event is
// dropped). The detail goes to the debug endpoint.
const (
	reasonBadName       = contract.ReasonBadName
	reasonUnknownEvent  = contract.ReasonUnknownEvent
	reasonTooManyParams = contract.ReasonTooManyParams
	reasonUnknownParam  = contract.ReasonUnknownParam
	reasonBadValue      = contract.ReasonBadValue
	reasonWrongType     = contract.ReasonWrongType
	reasonImplausible   = contract.ReasonImplausible
)

// drop is a dropped event's reason, for what the receiver finds wrong
// before an event reaches contract.Check (a hit that is no event, an
// entry that is no report line).
func drop(reason, field, format string, args ...any) *contract.Rejection {
	return contract.Reject(reason, field, format, args...)
}

// clip shortens a value quoted in a message.
func clip(s string) string { return contract.Clip(s) }
