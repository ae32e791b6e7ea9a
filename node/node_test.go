package node

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/etf"
)

func TestParseName(t *testing.T) {
	good := map[string]bool{
		"mongooseim@localhost":       false,
		"mongooseim@mim-1":           false,
		"mongooseim@127.0.0.1":       true,
		"mim_2@host.example.com":     true,
		"ejabberd-node@db1.internal": true,
	}
	for s, long := range good {
		n, err := ParseName(s)
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		if n.Long != long {
			t.Errorf("%s: long = %v, want %v", s, n.Long, long)
		}
	}
	for _, s := range []string{"", "mongooseim", "@host", "name@", "a@b@c", "bad name@host", "n√@host"} {
		if _, err := ParseName(s); err == nil {
			t.Errorf("%q: accepted", s)
		} else if !strings.Contains(err.Error(), "name@host") && !strings.Contains(err.Error(), "before @") {
			t.Errorf("%q: error does not say the expected form: %v", s, err)
		}
	}
}

// fakeConn records what the handshake writes.
type fakeConn struct{ bytes.Buffer }

func (*fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (*fakeConn) SetWriteDeadline(time.Time) error { return nil }

func TestHidingConnClearsPublished(t *testing.T) {
	// send_name version 6: length, 'N', flags (8), creation (4), nlen (2), name
	v6 := make([]byte, 2+1+8+4+2+3)
	binary.BigEndian.PutUint16(v6, uint16(len(v6)-2))
	v6[2] = 'N'
	binary.BigEndian.PutUint64(v6[3:], 0x1_0000_0F7F) // published bit set
	// send_name version 5: length, 'n', version (2), flags (4), name
	v5 := make([]byte, 2+1+2+4+3)
	binary.BigEndian.PutUint16(v5, uint16(len(v5)-2))
	v5[2] = 'n'
	binary.BigEndian.PutUint32(v5[5:], 0x0F7F)
	for name, msg := range map[string][]byte{"v6": v6, "v5": v5} {
		fc := &fakeConn{}
		hc := &hidingConn{NetReadWriter: fc}
		given := append([]byte(nil), msg...)
		if n, err := hc.Write(given); err != nil || n != len(given) {
			t.Fatalf("Write = %d, %v", n, err)
		}
		if !bytes.Equal(given, msg) {
			t.Errorf("%s: Write changed its caller's buffer", name)
		}
		out := fc.Bytes()
		var flags uint64
		if name == "v6" {
			flags = binary.BigEndian.Uint64(out[3:])
		} else {
			flags = uint64(binary.BigEndian.Uint32(out[5:]))
		}
		if flags&flagPublished != 0 {
			t.Errorf("%s: published flag still set: %#x", name, flags)
		}
		if flags != (map[string]uint64{"v6": 0x1_0000_0F7E, "v5": 0x0F7E})[name] {
			t.Errorf("%s: other flags changed: %#x", name, flags)
		}
		if hc.messagesWritten() != 1 {
			t.Errorf("%s: counted %d messages", name, hc.messagesWritten())
		}
	}
	// Other messages pass unchanged.
	fc := &fakeConn{}
	hc := &hidingConn{NetReadWriter: fc}
	reply := []byte{0, 5, 'r', 1, 2, 3, 1}
	_, _ = hc.Write(append([]byte(nil), reply...))
	if !bytes.Equal(fc.Bytes(), reply) {
		t.Errorf("challenge reply changed: %v", fc.Bytes())
	}
}

func TestErgoOptionsStayPrivate(t *testing.T) {
	o := ergoOptions(Dist{})
	if !o.System.DisableAnonMetrics {
		t.Error("ergo's anonymous metrics are on: they send the node name to metrics.ergo.services")
	}
	if _, ok := o.Registrar.(dialOnlyRegistrar); !ok {
		t.Errorf("registrar %T registers in EPMD", o.Registrar)
	}
	if len(o.Listeners) != 1 || o.Listeners[0].Hostname != "127.0.0.1" {
		t.Errorf("listeners %+v: want one on 127.0.0.1", o.Listeners)
	}
	if v := o.Handshake.Version(); v != 6 {
		t.Errorf("handshake version %d, want 6 (OTP 25.0-25.2 reject 5)", v)
	}
	if _, ok := o.Handshake.(hiddenHandshake); !ok {
		t.Errorf("handshake %T does not hide us", o.Handshake)
	}
}

// The node refuses answers above the size our decoder takes.
func TestRunLimitIsTheDecoders(t *testing.T) {
	limit := strconv.Itoa(etf.DefaultMaxUncompressed)
	if n := strings.Count(runExprs, "> "+limit+" ->"); n != 1 {
		t.Errorf("erl/run.exprs compares with %s in %d places, want 1", limit, n)
	}
}

// The cookie prints as "(hidden)" however it is formatted, and a Cluster
// printed whole does not show it.
func TestCookieCannotBeFormatted(t *testing.T) {
	const cookie = "SECRET-7f3a"
	s := newSecret(cookie)
	c := &Cluster{opts: Options{Seeds: []string{"a@b"}}, cookie: s, name: "x@host.example"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		for _, v := range []any{s, c, struct{ C secret }{s}} {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, cookie) || strings.Contains(out, "534543524554") {
				t.Errorf("%s of %T shows the cookie: %s", verb, v, out)
			}
		}
	}
	if s.reveal() != cookie {
		t.Error("reveal does not give the cookie back")
	}
	// Messages are never masked: a one-letter cookie leaves names whole.
	err := fmt.Errorf("start: %w", &unreachableError{Node: "b@host.example", Reason: "r"})
	if !strings.Contains(err.Error(), "b@host.example") || !errors.Is(err, ErrUnreachable) {
		t.Errorf("wrapped error %q", err)
	}
}

// Every error of a call starts with its node, once, names no internal
// function, and still matches its sentinel.
func TestErrorsNameTheNodeOnce(t *testing.T) {
	const n = "mim@host1"
	cases := []struct {
		err      error
		sentinel error
	}{
		{&unreachableError{Node: n, Reason: "no EPMD", Hint: "check"}, ErrUnreachable},
		{&authError{Node: n}, ErrAuth},
		{&timeoutError{node: n, ctx: context.DeadlineExceeded}, ErrTimeout},
		{&timeoutError{node: n, ctx: context.Canceled}, context.Canceled},
		{&badAnswerError{node: n, what: "truncated"}, errBadAnswer},
	}
	for _, c := range cases {
		wrapped := fmt.Errorf("collect: %w", c.err)
		msg := c.err.Error()
		if !strings.HasPrefix(msg, "node "+n+" ") && !strings.HasPrefix(msg, "node "+n+":") {
			t.Errorf("%q does not start with the node", msg)
		}
		if strings.Count(msg, n) != 1 || strings.Contains(msg, "erl_eval") || strings.Contains(msg, "rpc ") {
			t.Errorf("%q repeats the node or names internals", msg)
		}
		if !errors.Is(wrapped, c.sentinel) {
			t.Errorf("%q does not match %v", wrapped, c.sentinel)
		}
	}
	if !errors.Is(&timeoutError{node: n, ctx: context.DeadlineExceeded}, context.DeadlineExceeded) {
		t.Error("a timeout does not match context.DeadlineExceeded")
	}
	bad := &BadRPCError{Node: n, Module: "erl_eval", Function: "exprs", Class: "error", Reason: "badarg"}
	if msg := bad.Error(); strings.Contains(msg, "erl_eval") || !strings.Contains(msg, "error:badarg") {
		t.Errorf("eval error %q", msg)
	}
}

// peerSaid finds the status and the name in the handshake messages read,
// however they were split into reads.
func TestPeerSaid(t *testing.T) {
	msg := func(b ...byte) []byte { return append([]byte{byte(len(b) >> 8), byte(len(b))}, b...) }
	name := "rv@vm"
	v6 := append([]byte{'N', 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 1, 0, byte(len(name))}, name...)
	v5 := append([]byte{'n', 0, 5, 0, 0, 0, 0, 1, 2, 3, 4}, name...)
	for what, stream := range map[string][]byte{
		"v6":          append(msg('s', 'o', 'k'), msg(v6...)...),
		"v5":          append(msg('s', 'o', 'k'), msg(v5...)...),
		"not allowed": msg([]byte("snot_allowed")...),
	} {
		hc := &hidingConn{NetReadWriter: &fakeConn{}, record: true}
		hc.NetReadWriter.(*fakeConn).Write(stream)
		buf := make([]byte, 3) // small reads: messages split across them
		for {
			if n, err := hc.Read(buf); n == 0 || err != nil {
				break
			}
		}
		status, peer := hc.peerSaid()
		switch what {
		case "not allowed":
			if status != "not_allowed" || peer != "" {
				t.Errorf("%s: %q %q", what, status, peer)
			}
		default:
			if status != "ok" || peer != name {
				t.Errorf("%s: %q %q", what, status, peer)
			}
		}
	}
}

// MembershipOf: the seeds, their peers and the members they record,
// sorted, once each; the first seed's error only when no seed answered.
// A recorded member no answering seed is connected to is down.
func TestMembershipOf(t *testing.T) {
	down := errors.New("down")
	peers := map[string]Peers{
		"a@h": {Connected: []string{"c@h", "b@h"}, Recorded: []string{"a@h", "b@h", "c@h", "d@h", "x@h"}},
		"b@h": {Connected: []string{"a@h", "c@h"}, Recorded: []string{"e@h"}},
	}
	ask := func(seed string) (Peers, error) {
		if p, ok := peers[seed]; ok {
			return p, nil
		}
		return Peers{}, fmt.Errorf("%s: %w", seed, down)
	}
	got, err := MembershipOf([]string{"b@h", "x@h", "a@h"}, ask)
	if err != nil || strings.Join(got.Members, " ") != "a@h b@h c@h d@h e@h x@h" {
		t.Errorf("got %v, %v", got.Members, err)
	}
	if len(got.Down) != 3 || got.Down["d@h"] != "a@h" || got.Down["x@h"] != "a@h" || got.Down["e@h"] != "b@h" {
		t.Errorf("down %v, want d@h and x@h (recorded by a@h, the seed x@h did not answer) and e@h (by b@h)", got.Down)
	}
	if by, ok := got.RecordedBy("c@h"); ok {
		t.Errorf("c@h, connected, is down (recorded by %s)", by)
	}
	got, err = MembershipOf([]string{"y@h", "x@h", "y@h"}, ask)
	if !errors.Is(err, down) || !strings.HasPrefix(err.Error(), "y@h") || strings.Join(got.Members, " ") != "x@h y@h" || len(got.Down) != 0 {
		t.Errorf("no seed answered: got %v, %v; want the seeds and y@h's error, none down", got, err)
	}
}

// NotRunningError names the member and the seed that records it, and
// wraps the cause.
func TestNotRunningError(t *testing.T) {
	cause := errors.New("connection refused")
	err := fmt.Errorf("collect: %w", &NotRunningError{Node: "mongooseim@b", RecordedBy: "mongooseim@a", Cause: cause})
	if !IsNotRunning(err) || !errors.Is(err, cause) {
		t.Errorf("%v: not recognised, or the cause is lost", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "mongooseim@b is a member of the cluster but not running") || !strings.Contains(msg, "mongooseim@a") {
		t.Errorf("message %q", msg)
	}
	if IsNotRunning(cause) {
		t.Error("any error is taken for a member that is down")
	}
}
