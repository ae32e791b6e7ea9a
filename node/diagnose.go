package node

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ergo-services/ergo/lib"
	ergonode "github.com/ergo-services/ergo/node"
	"github.com/ergo-services/ergo/proto/dist"
)

// epmdPort is the port of the EPMD on every host, as Erlang itself picks it.
func epmdPort() int {
	if p, err := strconv.Atoi(os.Getenv("ERL_EPMD_PORT")); err == nil && p > 0 && p < 65536 {
		return p
	}
	return 4369
}

// diagnose finds out why ergo could not connect to node, step by step as a
// person would: does the host resolve, does its EPMD answer, does EPMD know
// the node, does the node speak the distribution protocol d says (TCP or
// TLS), does TLS accept our certificate and the node's, does the node
// accept our cookie, is it the node it was asked for. It returns an
// *unreachableError or an *authError.
//
// The handshake it tries uses a name of its own (ownName's with a random
// part), so that a connection of ownName that the peer still holds cannot
// make it refuse this one.
func diagnose(ctx context.Context, node string, cookie secret, ownName string, d Dist) error {
	n, err := ParseName(node)
	if err != nil {
		return err
	}
	budget := 5 * time.Second
	if d.usesTLS() {
		budget += tlsHandshakeTimeout // room to try plain TCP when TLS fails
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	if _, err := net.DefaultResolver.LookupHost(ctx, n.Host); err != nil {
		return &unreachableError{Node: node, Reason: fmt.Sprintf("host %q does not resolve", n.Host),
			Hint: "check the host part of the node name (with short names it is the machine's short host name)"}
	}
	port, where := d.Port, "its distribution port %d (--dist-port or ERL_DIST_PORT)"
	if port == 0 {
		var lerr *epmdError
		if port, lerr = epmdLookup(ctx, n.Host, n.Alive); lerr != nil {
			return lerr.withNode(node)
		}
		where = "EPMD lists it at port %d"
	}
	addr := net.JoinHostPort(n.Host, strconv.Itoa(port))
	// Either family, as ergo dials: a host name of both reaches a node
	// of either (an address of the other family is a usage error).
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		hint := "a firewall may block the distribution port, or the node is stopping"
		if d.Port > 0 {
			hint = "the node is not running, or it listens on another port (its -erl_epmd_port, ERL_DIST_PORT or inet_dist_listen_min)"
		}
		return &unreachableError{Node: node, Reason: fmt.Sprintf(where+" but connecting failed: %v", port, unwrapNet(err)), Hint: hint}
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	var rw lib.NetReadWriter = conn.(*net.TCPConn)
	if d.usesTLS() {
		tc := tls.Client(conn, d.tlsFor(n.Host))
		hctx, hcancel := context.WithTimeout(ctx, tlsHandshakeTimeout)
		herr := tc.HandshakeContext(hctx)
		hcancel()
		if herr != nil {
			if e := tlsFailure(node, herr, d); e != nil {
				return e
			}
			if speaksPlain(ctx, addr, ownName) {
				return &unreachableError{Node: node, Reason: "the node speaks plain TCP distribution, not TLS",
					Hint: "drop --proto-dist " + d.Proto + " and the TLS options (or give --proto-dist " + strings.Replace(d.Proto, "_tls", "_tcp", 1) + "), as the nodes run without -proto_dist inet_tls"}
			}
			return &unreachableError{Node: node, Reason: "TLS handshake failed: " + herr.Error()}
		}
		rw = tc
	}
	hs := dist.CreateHandshake(dist.HandshakeOptions{Version: dist.HandshakeVersion6, Timeout: 3 * time.Second})
	if err := hs.Init(checkName(ownName), uint32(time.Now().Unix()), ergonode.DefaultFlags()); err != nil {
		return &unreachableError{Node: node, Reason: "handshake setup: " + err.Error()}
	}
	hc := &hidingConn{NetReadWriter: rw, tls: d.usesTLS(), record: true}
	details, herr := hs.Start(conn.RemoteAddr(), hc, d.usesTLS(), cookie.reveal())
	status, peer := hc.peerSaid()
	if peer == "" {
		peer = details.Name
	}
	switch {
	case peer != "" && peer != node:
		// EPMD knows only the part before @: the node there has another
		// host part than the one asked for.
		return &unreachableError{Node: node, Reason: fmt.Sprintf("the node registered as %q on %s is named %s", n.Alive, n.Host, peer),
			Hint: fmt.Sprintf("give its full name: --node %s", peer)}
	case herr == nil:
		// The handshake works now: the failure was passing (the node was
		// starting, or a restart raced with us).
		return &unreachableError{Node: node, Reason: "connection failed, but a second attempt succeeded", Hint: "try again"}
	}
	if d.usesTLS() {
		// Over TLS 1.3 the node judges our certificate after our side of
		// the TLS handshake has ended: its verdict arrives here.
		if e := tlsFailure(node, herr, d); e != nil {
			return e
		}
	} else if looksLikeTLS(hc.recorded()) || status == "" && speaksTLS(ctx, addr) {
		return &unreachableError{Node: node, Reason: "the node expects TLS distribution (-proto_dist inet_tls)",
			Hint: "give --proto-dist " + strings.Replace(d.proto(), "_tcp", "_tls", 1) + " and --ssl-dist-optfile FILE (the client section of the nodes' ssl_dist_optfile), or --ssl-dist-opt client_certfile=... client_keyfile=... client_cacertfile=..."}
	}
	switch {
	case hc.messagesWritten() >= 2 && isClosed(herr):
		// The peer closes the connection right after our challenge reply
		// when the digest of its challenge and our cookie is wrong.
		return &authError{Node: node}
	case status == "not_allowed":
		return &unreachableError{Node: node, Reason: "the node does not allow connections from our node",
			Hint: "it accepts only the nodes net_kernel:allow/1 lists, or an old Erlang refuses a name of the other kind (short or long): name ours with --name"}
	case status != "" && status != "ok" && status != "ok_simultaneous":
		return &unreachableError{Node: node, Reason: fmt.Sprintf("the node refused the handshake (status %q)", status), Hint: "try again"}
	}
	return &unreachableError{Node: node, Reason: "handshake failed: " + herr.Error()}
}

// checkName is the name diagnose's handshake introduces itself with:
// ownName with a random suffix on its alive part.
func checkName(ownName string) string {
	alive, host, _ := strings.Cut(ownName, "@")
	var b [3]byte
	_, _ = rand.Read(b[:])
	return alive + "_check_" + hex.EncodeToString(b[:]) + "@" + host
}

func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "connection reset")
}

// epmdError is an EPMD failure that is completed with the node's name.
type epmdError struct{ reason, hint string }

func (e *epmdError) Error() string { return e.reason }
func (e *epmdError) withNode(node string) error {
	return &unreachableError{Node: node, Reason: e.reason, Hint: e.hint}
}

// epmdLookup asks the EPMD on host for the distribution port of alive
// (PORT_PLEASE2_REQ), over IPv4 or IPv6, whichever the host has (an EPMD
// answers on both).
func epmdLookup(ctx context.Context, host, alive string) (int, *epmdError) {
	addr := net.JoinHostPort(host, strconv.Itoa(epmdPort()))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, &epmdError{reason: fmt.Sprintf("no EPMD at %s (%v)", addr, unwrapNet(err)),
			hint: "no Erlang node runs on that host, or the host part of the node name is wrong; " +
				"if the nodes run without EPMD (-start_epmd false with -erl_epmd_port, ERL_DIST_PORT or a fixed inet_dist_listen_min), give their distribution port with --dist-port PORT"}
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	req := make([]byte, 3+len(alive))
	binary.BigEndian.PutUint16(req, uint16(1+len(alive)))
	req[2] = 122
	copy(req[3:], alive)
	if _, err := conn.Write(req); err != nil {
		return 0, &epmdError{reason: fmt.Sprintf("EPMD at %s: %v", addr, err)}
	}
	resp := make([]byte, 4)
	if _, err := io.ReadFull(conn, resp[:2]); err != nil {
		return 0, &epmdError{reason: fmt.Sprintf("EPMD at %s did not answer: %v", addr, err)}
	}
	if resp[0] != 119 {
		return 0, &epmdError{reason: fmt.Sprintf("EPMD at %s answered with unknown code %d", addr, resp[0])}
	}
	if resp[1] != 0 {
		return 0, &epmdError{reason: fmt.Sprintf("no node named %q is registered in EPMD on %s", alive, host),
			hint: "the node is not running, or the part before @ is wrong (epmd -names on that host lists the names)"}
	}
	if _, err := io.ReadFull(conn, resp[2:4]); err != nil {
		return 0, &epmdError{reason: fmt.Sprintf("EPMD at %s: short answer: %v", addr, err)}
	}
	return int(binary.BigEndian.Uint16(resp[2:4])), nil
}

func unwrapNet(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}
