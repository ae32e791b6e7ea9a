package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	ergonode "github.com/ergo-services/ergo/node"
	"github.com/ergo-services/ergo/proto/dist"
)

// tlsHandshakeTimeout bounds one TLS handshake of diagnose: a plain node
// that is sent a ClientHello waits for more bytes instead of answering.
const tlsHandshakeTimeout = 3 * time.Second

// tlsFailure names a certificate or TLS problem in err, from our side's
// check of the node's certificate or from the alert the node sent; nil
// when err is no such problem.
func tlsFailure(node string, err error, d Dist) error {
	fail := func(reason, hint string) error { return &unreachableError{Node: node, Reason: reason, Hint: hint} }
	var unknownCA x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	switch {
	case errors.As(err, &unknownCA):
		return fail("TLS: the node's certificate is not signed by a CA of our cacertfile (unknown CA)",
			"give as cacertfile the CA that signed the nodes' certificates (their own cacertfile)")
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return fail("TLS: the node's certificate has expired (or is not valid yet)", "renew the node's certificate (its certfile)")
	case errors.As(err, &invalid):
		return fail("TLS: the node's certificate is not accepted: "+invalid.Error(), "check the node's certfile")
	case errors.As(err, &host):
		want := host.Host
		return fail(fmt.Sprintf("TLS: the node's certificate is not for %s (name mismatch)", want),
			"its certificate must name the host of the node name, or give server_name_indication the name it holds")
	}
	msg := err.Error()
	i := strings.Index(msg, "remote error: tls: ")
	if i < 0 {
		return nil
	}
	alert := strings.TrimPrefix(msg[i:], "remote error: tls: ")
	noCert := d.TLS.GetClientCertificate == nil
	switch {
	case strings.HasPrefix(alert, "certificate required") || noCert && strings.HasPrefix(alert, "handshake failure"):
		return fail("TLS: the node requires a client certificate and we sent none",
			"give the sidecar's certificate and key (certfile and keyfile in the client options): the nodes run with fail_if_no_peer_cert true")
	case strings.HasPrefix(alert, "unknown certificate authority"):
		return fail("TLS: the node does not trust our client certificate (unknown CA)",
			"the sidecar's certfile must be signed by a CA of the nodes' cacertfile")
	case strings.HasPrefix(alert, "expired certificate"):
		return fail("TLS: the node refused our client certificate: it has expired", "renew the sidecar's certfile")
	case strings.HasPrefix(alert, "bad certificate"), strings.HasPrefix(alert, "unknown certificate"),
		strings.HasPrefix(alert, "unsupported certificate"), strings.HasPrefix(alert, "revoked certificate"):
		return fail("TLS: the node refused our client certificate ("+alert+")", "check the sidecar's certfile and keyfile")
	case strings.HasPrefix(alert, "protocol version not supported"):
		return fail("TLS: the node speaks none of our TLS versions", "give versions the nodes allow, e.g. ['tlsv1.2']")
	case strings.HasPrefix(alert, "handshake failure"), strings.HasPrefix(alert, "insufficient security"):
		return fail("TLS: the node refused the handshake ("+alert+")", "the nodes and the sidecar share no cipher suite or TLS version")
	}
	return fail("TLS: the node ended the handshake ("+alert+")", "compare the sidecar's client options with the nodes' server options")
}

// looksLikeTLS reports whether b begins with a TLS record: what a TLS
// node answers a plain handshake with (an alert).
func looksLikeTLS(b []byte) bool {
	return len(b) >= 3 && (b[0] == 0x15 || b[0] == 0x16) && b[1] == 0x03
}

// speaksTLS reports whether the node at addr answers a TLS ClientHello
// as a TLS server does: with its certificate, or an alert.
func speaksTLS(ctx context.Context, addr string) bool {
	ctx, cancel := context.WithTimeout(ctx, tlsHandshakeTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer conn.Close()
	answered := false
	tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, VerifyConnection: func(tls.ConnectionState) error {
		answered = true
		return errors.New("probe only")
	}})
	err = tc.HandshakeContext(ctx)
	return answered || err != nil && strings.Contains(err.Error(), "remote error: tls: ")
}

// speaksPlain reports whether the node at addr answers a plain
// distribution handshake: with a status message.
func speaksPlain(ctx context.Context, addr, ownName string) bool {
	ctx, cancel := context.WithTimeout(ctx, tlsHandshakeTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	hs := dist.CreateHandshake(dist.HandshakeOptions{Version: dist.HandshakeVersion6, Timeout: tlsHandshakeTimeout})
	if err := hs.Init(checkName(ownName), uint32(time.Now().Unix()), ergonode.DefaultFlags()); err != nil {
		return false
	}
	hc := &hidingConn{NetReadWriter: conn.(*net.TCPConn), record: true}
	// The status and the challenge come before our reply, which is never
	// sent: the probe holds no cookie.
	_, _ = hs.Start(conn.RemoteAddr(), nameOnly{hc}, false, "")
	status, name := hc.peerSaid()
	return status != "" || name != ""
}

// nameOnly lets a handshake send its first message only.
type nameOnly struct{ *hidingConn }

var errProbeOnly = errors.New("probe: the handshake goes no further")

func (c nameOnly) Write(b []byte) (int, error) {
	if c.messagesWritten() >= 1 {
		return 0, errProbeOnly
	}
	return c.hidingConn.Write(b)
}
