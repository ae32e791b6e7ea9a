package reporting

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"go.uber.org/zap/zapcore"

	"github.com/mim-metrics/mim-metrics/metrics"
)

// Protocol is the Google Analytics protocol a destination speaks.
type Protocol string

// Protocols.
const (
	// GA4 is the Google Analytics 4 Measurement Protocol (POST /mp/collect),
	// used by MongooseIM 6.1 and later.
	GA4 Protocol = "GA4"
	// UA is the legacy Universal Analytics Measurement Protocol (POST
	// /batch), used by MongooseIM up to 6.0. Google stopped processing it in
	// July 2023.
	UA Protocol = "UA"
)

// DefaultEndpoint is the base URL of Google Analytics.
const DefaultEndpoint = "https://www.google-analytics.com"

// MongooseIM's own GA4 properties (public in MongooseIM's source,
// service_mongoose_system_metrics.erl, 6.1.0+). The secret is what Google
// calls the Measurement Protocol API secret.
const (
	// upstreamMeasurementID is MongooseIM's property for release builds.
	upstreamMeasurementID = "G-B4S18X6KY5"
	upstreamSecret        = "Rj6lopOLQZ2HPLj50QtYeQ"
	// upstreamCIMeasurementID is MongooseIM's property for CI runs
	// (environment CI=true).
	upstreamCIMeasurementID = "G-VB91V60SKT"
	upstreamCISecret        = "LFxdCgDsSa-OAPtBnLDqpQ"
)

// Destination is one analytics property that receives every report: a GA4
// property (measurement id and API secret) or a legacy UA property.
//
// The secret never leaves the request URL: String, GoString, log fields and
// JSON all mask it.
type Destination struct {
	// Protocol says how reports are encoded and where they are posted.
	Protocol Protocol
	// ID is the measurement id (G-XXXX) or the UA tracking id (UA-XXXX-Y).
	ID string
	// Secret is the GA4 Measurement Protocol API secret; empty for UA.
	Secret string `json:"-"`
	// Upstream marks MongooseIM's own property, as opposed to one the user
	// configured.
	Upstream bool
	// Receiver is the base URL, without credentials, of the user's own
	// receiver (--receiver, see ParseReceiverURL); requests go there
	// instead of the Google Analytics endpoint. Empty for Google Analytics.
	Receiver string
}

var (
	measurementIDRe = regexp.MustCompile(`^G-[A-Z0-9]+$`)
	uaTrackingIDRe  = regexp.MustCompile(`^UA-\d+-\d+$`)
)

// ParseTrackingID parses a user's tracking id: "G-XXXX:SECRET" for a GA4
// property (measurement id, a colon, the API secret) or "UA-XXXX-Y" for a
// legacy Universal Analytics property. The error names the expected forms
// and never repeats the secret.
func ParseTrackingID(s string) (Destination, error) {
	s = strings.TrimSpace(s)
	if uaTrackingIDRe.MatchString(s) {
		return Destination{Protocol: UA, ID: s}, nil
	}
	id, secret, hasSecret := strings.Cut(s, ":")
	shown := id
	if hasSecret {
		shown = id + ":" + maskSecret(secret)
	}
	const forms = "expected G-XXXXXXXXXX:API_SECRET (a GA4 measurement id and its Measurement Protocol API secret) or UA-XXXXXX-Y (a Universal Analytics property)"
	switch {
	case !measurementIDRe.MatchString(id):
		return Destination{}, fmt.Errorf("invalid tracking id %q: %s", shown, forms)
	case !hasSecret || secret == "":
		return Destination{}, fmt.Errorf("invalid tracking id %q: the API secret is missing; %s", shown, forms)
	case !validSecret(secret):
		return Destination{}, fmt.Errorf("invalid tracking id %q: the API secret contains spaces or control characters; %s", shown, forms)
	}
	return Destination{Protocol: GA4, ID: id, Secret: secret}, nil
}

func validSecret(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// upstreamDestination returns MongooseIM's own GA4 property: the release
// property, or the CI property when ci is true (MongooseIM uses it when the
// environment has CI=true).
func upstreamDestination(ci bool) Destination {
	if ci {
		return Destination{Protocol: GA4, ID: upstreamCIMeasurementID, Secret: upstreamCISecret, Upstream: true}
	}
	return Destination{Protocol: GA4, ID: upstreamMeasurementID, Secret: upstreamSecret, Upstream: true}
}

// String names the destination for logs, without its secret, for example
// "GA4 G-B4S18X6KY5 (MongooseIM upstream)" or "GA4 G-OWN at
// https://metrics.example.org (your receiver)".
func (d Destination) String() string {
	s := string(d.Protocol) + " " + d.ID
	if d.Upstream {
		s += " (MongooseIM upstream)"
	}
	if d.Receiver != "" {
		s += " at " + d.Receiver + " (your receiver)"
	}
	return s
}

// GoString is String with the secret masked, so %#v cannot leak it.
func (d Destination) GoString() string {
	return fmt.Sprintf("reporting.Destination{Protocol:%q, ID:%q, Secret:%q, Upstream:%t, Receiver:%q}",
		d.Protocol, d.ID, maskSecret(d.Secret), d.Upstream, d.Receiver)
}

// MarshalLogObject makes zap log the destination with its secret masked.
func (d Destination) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString("protocol", string(d.Protocol))
	enc.AddString("id", d.ID)
	if d.Secret != "" {
		enc.AddString("secret", maskSecret(d.Secret))
	}
	enc.AddBool("upstream", d.Upstream)
	if d.Receiver != "" {
		enc.AddString("receiver", d.Receiver)
	}
	return nil
}

// maskSecret hides a secret for logs, errors and previews: long secrets keep
// their first four characters ("Rj6l…(masked)"), short ones are hidden
// entirely.
func maskSecret(secret string) string {
	const suffix = "…(masked)"
	if secret == "" {
		return ""
	}
	r := []rune(secret)
	if len(r) < 16 {
		return suffix
	}
	return string(r[:4]) + suffix
}

// ParseEndpoint checks a Google Analytics base URL: scheme http or https, a
// host, an optional path prefix, no query, fragment or credentials. The
// protocol paths (/mp/collect, /batch) are appended to it.
func ParseEndpoint(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("invalid endpoint %q: %w", s, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("invalid endpoint %q: the scheme must be https (or http), as in %s", s, DefaultEndpoint)
	case u.Host == "":
		return nil, fmt.Errorf("invalid endpoint %q: no host, expected a base URL such as %s", s, DefaultEndpoint)
	case u.User != nil:
		return nil, fmt.Errorf("invalid endpoint %q: credentials are not allowed in the URL", s)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("invalid endpoint %q: a base URL has no query or fragment", s)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// endpointURL joins the base URL and a protocol path.
func endpointURL(base *url.URL, path string) *url.URL {
	u := *base
	u.Path = base.Path + path
	u.RawPath = ""
	return &u
}

// Request is one HTTP request to a destination. It is built once by
// BuildRequests; the sender sends it (again on retries) and the preview
// prints it.
type Request struct {
	// Method is the HTTP method (always POST).
	Method string
	// URL is the full URL. For GA4 it contains the API secret: never log it,
	// use MaskedURL.
	URL *url.URL
	// Header holds the headers we set.
	Header http.Header
	// Body is the exact request body.
	Body []byte
	// Node is the node whose events the body carries. It is for local display
	// only and is not part of the request.
	Node string
	// Events is the number of events (GA4) or hits (UA) in the body.
	Events int
	// secret is the value to mask when showing the request.
	secret string
}

// MaskedURL is the request URL with the API secret masked.
func (r Request) MaskedURL() string {
	u := *r.URL
	q := u.Query()
	if _, ok := q["api_secret"]; !ok {
		return maskSecretIn(u.String(), r.secret)
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		for _, v := range q[k] {
			if k == "api_secret" {
				parts = append(parts, "api_secret="+maskSecret(v))
			} else {
				parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
			}
		}
	}
	u.RawQuery = strings.Join(parts, "&")
	return u.String()
}

// maskSecretIn replaces every occurrence of secret (plain or URL-encoded)
// in s with its mask.
func maskSecretIn(s, secret string) string {
	if secret == "" {
		return s
	}
	m := maskSecret(secret)
	for _, form := range []string{url.QueryEscape(secret), url.PathEscape(secret), secret} {
		s = strings.ReplaceAll(s, form, m)
	}
	return s
}

// Dropped is an event (or UA hit) left out of a report because the protocol
// cannot carry it.
type Dropped struct {
	// Node is the node whose report held the event.
	Node string
	// Event is the event name.
	Event string
	// Reason says why it was dropped.
	Reason string
}

// userAgent is sent with every request.
const userAgent = "mim-metrics (+https://github.com/mim-metrics/mim-metrics)"

// BuildRequests builds the requests that deliver one cycle's reports to
// dest. endpoint is the Google Analytics base URL (see ParseEndpoint); a
// receiver destination uses its own. Each node's events go in their own
// requests, all with clientID as the client id. Events the protocol cannot
// carry are left out and listed in dropped. Node names are never put in a
// request.
//
// at is the cycle's time. Every request of the node at index i carries
// at + i microseconds as timestamp_micros when dest is a receiver, and its
// position among the node's requests (user_properties.mim_batch), so that
// the receiver can recognise a retried request (client id, time, position,
// events) and store it once. Google Analytics requests carry no timestamp: Google
// dates them on arrival, and silently drops events dated more than 72
// hours back, which a sidecar with a wrong clock would otherwise risk.
//
// This is the only place requests are built: the sender and the preview
// both use it.
func BuildRequests(dest Destination, endpoint, clientID string, at time.Time, reports []metrics.NodeReport) (reqs []Request, dropped []Dropped, err error) {
	if dest.Receiver != "" {
		if dest.Protocol != GA4 {
			return nil, nil, fmt.Errorf("build requests for %s: a receiver speaks GA4 only", dest)
		}
		endpoint = dest.Receiver
	}
	base, err := ParseEndpoint(endpoint)
	if err != nil {
		return nil, nil, err
	}
	if clientID == "" {
		return nil, nil, errors.New("build requests: empty client id")
	}
	switch dest.Protocol {
	case GA4:
		if !measurementIDRe.MatchString(dest.ID) || dest.Secret == "" {
			return nil, nil, fmt.Errorf("build requests for %s: invalid GA4 destination (measurement id G-XXXX and an API secret are required)", dest)
		}
		stamp := time.Time{}
		if dest.Receiver != "" {
			stamp = at
		}
		reqs, dropped = buildGA4(dest, base, clientID, stamp, reports)
	case UA:
		if !uaTrackingIDRe.MatchString(dest.ID) {
			return nil, nil, fmt.Errorf("build requests for %s: invalid UA tracking id (expected UA-XXXX-Y)", dest)
		}
		reqs, dropped = buildUA(dest, base, clientID, reports)
	default:
		return nil, nil, fmt.Errorf("build requests for %s: unknown protocol %q", dest, dest.Protocol)
	}
	return reqs, dropped, nil
}
