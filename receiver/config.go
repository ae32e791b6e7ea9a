package receiver

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/mim-metrics/mim-metrics/store"
)

// Property is one measurement id (GA4) or tracking id (UA) the receiver
// accepts, with its API secret (none for UA: the protocol has none) and
// its kind.
type Property struct {
	ID     string
	Secret string
	Kind   store.Kind
}

var (
	measurementIDRe = regexp.MustCompile(`^G-[A-Z0-9]+$`)
	trackingIDRe    = regexp.MustCompile(`^UA-[0-9]+-[0-9]+$`)
)

// ParseProperty reads ID:SECRET[:production|ci] (a GA4 measurement id and
// its API secret) or UA-XXXX-N[:production|ci] (a Universal Analytics
// property, which has no secret). The kind defaults to production. The
// error never repeats the secret.
func ParseProperty(s string) (Property, error) {
	const forms = "expected G-XXXX:SECRET[:production|ci] or UA-XXXX-N[:production|ci]"
	parts := strings.Split(strings.TrimSpace(s), ":")
	p := Property{ID: parts[0], Kind: store.Production}
	kindOf := func(k string) error {
		switch store.Kind(k) {
		case store.Production, store.CI:
			p.Kind = store.Kind(k)
			return nil
		}
		return fmt.Errorf("property %s: unknown kind %q: use production or ci", p.ID, k)
	}
	switch {
	case trackingIDRe.MatchString(p.ID):
		switch len(parts) {
		case 1:
		case 2:
			if err := kindOf(parts[1]); err != nil {
				return Property{}, fmt.Errorf("property %s: UA properties have no secret; after the id only a kind may follow (production or ci)", p.ID)
			}
		default:
			return Property{}, fmt.Errorf("property %s: UA properties have no secret; %s", p.ID, forms)
		}
	case measurementIDRe.MatchString(p.ID):
		if len(parts) < 2 || parts[1] == "" {
			return Property{}, fmt.Errorf("property %s: the API secret is missing; %s", p.ID, forms)
		}
		if len(parts) > 3 {
			return Property{}, fmt.Errorf("property %s: too many colons; %s", p.ID, forms)
		}
		p.Secret = parts[1]
		for _, r := range p.Secret {
			if r <= ' ' || r == 0x7f {
				return Property{}, fmt.Errorf("property %s: the API secret holds spaces or control characters", p.ID)
			}
		}
		if len(parts) == 3 {
			if err := kindOf(parts[2]); err != nil {
				return Property{}, err
			}
		}
	default:
		return Property{}, fmt.Errorf("invalid property id %q: %s", clip(p.ID), forms)
	}
	return p, nil
}

// Limit is a token bucket: Burst requests at once, refilled at Rate per
// second.
type Limit struct {
	Rate  rate.Limit
	Burst int
}

// Default limits. A node with 200 hosts sends about 250 requests at once
// every 3 hours (a three-node cluster's sidecar about 750, all with one
// client id, from one address); retries come on top. A bucket refills
// fully in limitRefill.
var (
	DefaultClientLimit  = BurstLimit(1500)
	DefaultAddressLimit = BurstLimit(3000)
)

// limitRefill is the time an empty bucket of BurstLimit takes to refill.
const limitRefill = 25 * time.Minute

// BurstLimit allows burst requests at once, refilled in limitRefill.
func BurstLimit(burst int) Limit {
	return Limit{Rate: rate.Limit(float64(burst) / limitRefill.Seconds()), Burst: burst}
}

// DefaultMaxClustersPerAddress is how many distinct client ids one source
// address may add to the roll-ups per UTC day.
const DefaultMaxClustersPerAddress = 5

// Config is what a Receiver needs.
type Config struct {
	// Store keeps what is accepted. Required.
	Store store.Store
	// Properties are the ids accepted. At least one.
	Properties []Property
	// AdminToken enables POST /api/v1/reports; empty: disabled.
	AdminToken string
	// GeoIP maps an address to its country; nil: no country is kept.
	GeoIP *GeoIP
	// TrustedProxies are the ranges whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// MaxClustersPerAddress: see DefaultMaxClustersPerAddress; 0: default.
	MaxClustersPerAddress int
	// MaxClustersPerAddressOf overrides it per property id (CI runners
	// behind one NAT are many clusters from one address).
	MaxClustersPerAddressOf map[string]int
	// MaxTracked bounds the keys each rate limiter and the cluster counter
	// keep; 0: DefaultMaxTracked.
	MaxTracked int
	// AdminGuard limits guesses of the admin token; nil: a guard of the
	// receiver's own (share one with the dashboard).
	AdminGuard *AdminGuard
	// ClientLimit and AddressLimit are the rate limits per client id and
	// per source address; zero: the defaults.
	ClientLimit, AddressLimit Limit
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// Logger; nil: no logs. Addresses are never logged.
	Logger *zap.Logger
}
