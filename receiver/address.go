package receiver

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"
)

// sourceAddr is the address a request comes from: the peer, or, when the
// peer is a trusted proxy, the last address in X-Forwarded-For that is not
// a trusted proxy. It is used for rate limits, the cluster count and the
// country, in memory only: never stored, never logged.
func sourceAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := parseAddr(r.RemoteAddr)
	if !peer.IsValid() || !inAny(peer, trusted) {
		return peer
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	addr := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a forged or broken hop: believe the last good one
		}
		addr = a.Unmap()
		if !inAny(addr, trusted) {
			break
		}
	}
	return addr
}

func parseAddr(hostport string) netip.Addr {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func inAny(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// addrKey is the unit an address is limited and counted by: the IPv4
// address, or the IPv6 /64 (one site's network).
func addrKey(a netip.Addr) netip.Prefix {
	if !a.IsValid() {
		return netip.Prefix{}
	}
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.Prefix(bits)
	return p
}

// ParseCIDR reads a trusted proxy range: a CIDR or a single address.
func ParseCIDR(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	return netip.Prefix{}, fmt.Errorf("invalid proxy range %q: expected a CIDR such as 10.0.0.0/8 or an address", s)
}

// GeoIP maps an address to its country with a MaxMind GeoLite2/GeoIP2
// Country or City database.
type GeoIP struct{ r *maxminddb.Reader }

// OpenGeoIP opens an .mmdb file.
func OpenGeoIP(path string) (*GeoIP, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open GeoIP database %s: %w", path, err)
	}
	return &GeoIP{r: r}, nil
}

// Country is the ISO 3166-1 alpha-2 code of a's country, or "".
func (g *GeoIP) Country(a netip.Addr) string {
	if g == nil || !a.IsValid() {
		return ""
	}
	var rec struct {
		Country struct {
			ISOCode string `maxminddb:"iso_code"`
		} `maxminddb:"country"`
	}
	if err := g.r.Lookup(a).Decode(&rec); err != nil {
		return ""
	}
	code := rec.Country.ISOCode
	if len(code) != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z' {
		return ""
	}
	return code
}

// Close releases the database.
func (g *GeoIP) Close() error {
	if g == nil {
		return nil
	}
	return g.r.Close()
}
