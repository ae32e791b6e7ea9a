package reporting

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// receiverForm is the shape of a --receiver URL, shown in its errors.
const receiverForm = "expected https://G-XXXX:API_SECRET@metrics.example.org (the receiver's GA4 property id and its secret before the host, an optional path prefix after it)"

// ParseReceiverURL parses the base URL of a receiver of one's own
// (mim-metrics-receiver, or any GA4 Measurement Protocol server), with the
// property's measurement id and API secret in the URL's user part, as
// database URLs carry credentials:
// https://G-OWN:SECRET@metrics.example.org[/prefix]. Requests go to the
// base URL plus /mp/collect. https is required, except for a loopback host
// (127.0.0.1, ::1, localhost), which may use http. The error is one line,
// names what is wrong, and shows the URL with the secret masked.
func ParseReceiverURL(s string) (Destination, error) {
	shown := maskURLSecret(s)
	fail := func(format string, args ...any) (Destination, error) {
		return Destination{}, fmt.Errorf("invalid receiver URL %q: %s; %s", shown, fmt.Sprintf(format, args...), receiverForm)
	}
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		// url.Parse's error repeats the URL, secret included: not shown.
		return fail("it does not parse as a URL")
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return fail("the scheme must be https")
	case u.Host == "" || u.Hostname() == "":
		return fail("no host")
	case u.Scheme == "http" && !isLoopbackHost(u.Hostname()):
		return fail("the scheme must be https (http is accepted only for a loopback host such as 127.0.0.1), since the secret travels in every request")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fail("a base URL has no query or fragment")
	case u.User == nil || u.User.Username() == "":
		return fail("the property id is missing")
	}
	id := u.User.Username()
	secret, hasSecret := u.User.Password()
	switch {
	case !measurementIDRe.MatchString(id):
		return fail("the property id %q is not a GA4 measurement id (G- and capital letters or digits)", id)
	case !hasSecret || secret == "":
		return fail("the API secret is missing")
	case !validSecret(secret):
		return fail("the API secret contains spaces or control characters")
	}
	base := *u
	base.User = nil
	base.Path = strings.TrimRight(base.Path, "/")
	base.RawPath = ""
	return Destination{Protocol: GA4, ID: id, Secret: secret, Receiver: base.String()}, nil
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// maskURLSecret returns s with the password of its user part masked
// ("https://G-OWN:…(masked)@host"), also when s does not parse as a URL, so
// that a bad --receiver value can be shown in an error.
func maskURLSecret(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		scheme, rest = "", s
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return s
	}
	user, password, hasPassword := strings.Cut(authority[:at], ":")
	if !hasPassword || password == "" {
		return s
	}
	if p, err := url.PathUnescape(password); err == nil {
		password = p
	}
	masked := user + ":" + maskSecret(password) + authority[at:] + rest[len(authority):]
	if ok {
		return scheme + "://" + masked
	}
	return masked
}
