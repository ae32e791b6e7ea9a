package receiver

import (
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Guessing the admin token is slow: wrong tokens (bearer or login form)
// are limited per source address and overall; an address or everyone out
// of tries gets 429 and Retry-After, even with the right token, until the
// bucket refills (an exhausted overall bucket locks the admin out too for
// a while: the price of a limit on guesses spread over many addresses).
var (
	// DefaultGuessesPerAddress: 10 wrong tokens at once, then one a minute.
	DefaultGuessesPerAddress = Limit{Rate: rate.Every(time.Minute), Burst: 10}
	// DefaultGuessesOverall: 100 wrong tokens at once from all addresses,
	// then one every 6 seconds.
	DefaultGuessesOverall = Limit{Rate: rate.Every(6 * time.Second), Burst: 100}
)

// AdminGuard limits guesses of the admin token, for the reports API and
// the dashboard's admin doors alike. Its zero value is not usable: use
// NewAdminGuard.
type AdminGuard struct {
	trusted []netip.Prefix
	now     func() time.Time
	mu      sync.Mutex
	perAddr *keyedLimiter
	overall *rate.Limiter
}

// NewAdminGuard makes a guard; trusted are the proxies whose
// X-Forwarded-For names the source address (and X-Forwarded-Proto the
// scheme); now nil: time.Now.
func NewAdminGuard(trusted []netip.Prefix, now func() time.Time) *AdminGuard {
	if now == nil {
		now = time.Now
	}
	return &AdminGuard{trusted: trusted, now: now,
		perAddr: newKeyedLimiter(DefaultGuessesPerAddress, 0),
		overall: rate.NewLimiter(DefaultGuessesOverall.Rate, DefaultGuessesOverall.Burst)}
}

// Blocked says how long r's address (or everyone) must wait before another
// try; 0: it may try now. It takes nothing: only Failed does.
func (g *AdminGuard) Blocked(r *http.Request) time.Duration {
	if g == nil {
		return 0
	}
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	wait := untilToken(g.overall, now)
	if l := g.perAddr.peek(addrKey(sourceAddr(r, g.trusted)).String()); l != nil {
		wait = max(wait, untilToken(l, now))
	}
	return wait
}

// Failed counts a wrong token from r's address.
func (g *AdminGuard) Failed(r *http.Request) {
	if g == nil {
		return
	}
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.overall.AllowN(now, 1)
	g.perAddr.allow(addrKey(sourceAddr(r, g.trusted)).String(), now)
}

// untilToken is how long until l holds a whole token.
func untilToken(l *rate.Limiter, now time.Time) time.Duration {
	missing := 1 - l.TokensAt(now)
	if missing <= 0 {
		return 0
	}
	if l.Limit() <= 0 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(missing / float64(l.Limit()) * float64(time.Second))
}

// IsHTTPS says whether r came over HTTPS: to this receiver, or to a
// trusted proxy that says so in X-Forwarded-Proto.
func (g *AdminGuard) IsHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if g == nil {
		return false
	}
	peer := parseAddr(r.RemoteAddr)
	if !peer.IsValid() || !inAny(peer, g.trusted) {
		return false
	}
	proto := r.Header.Get("X-Forwarded-Proto")
	if i := strings.LastIndexByte(proto, ','); i >= 0 {
		proto = proto[i+1:] // the proxy nearest to us appends
	}
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

// retryAfter is a Retry-After value: whole seconds, at least 1.
func retryAfter(d time.Duration) string {
	s := int64(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}
