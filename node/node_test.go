package node

import (
	"bytes"
	"encoding/binary"
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
		if _, err := hc.Write(append([]byte(nil), msg...)); err != nil {
			t.Fatal(err)
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
	o := ergoOptions()
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
func TestWrapperLimitIsTheDecoders(t *testing.T) {
	limit := strconv.Itoa(etf.DefaultMaxUncompressed)
	if n := strings.Count(wrapperSrc, "> "+limit+" ->"); n != 3 {
		t.Errorf("wrapperSrc compares with %s in %d places, want 3 (value, throw, error)", limit, n)
	}
}
