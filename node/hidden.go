package node

import (
	"encoding/binary"
	"net"
	"sync"

	"github.com/ergo-services/ergo/lib"
	ergonode "github.com/ergo-services/ergo/node"
)

// flagPublished is DFLAG_PUBLISHED: a node that sets it is visible in the
// peer's nodes(). A hidden node must leave it clear.
const flagPublished = 0x01

// hiddenHandshake wraps ergo's DIST handshake, which always sets
// DFLAG_PUBLISHED, and clears that flag in the messages that carry our flags,
// so the peer sees us only in nodes(hidden). ergo writes each handshake
// message with a single Write call.
type hiddenHandshake struct {
	ergonode.HandshakeInterface
}

func (h hiddenHandshake) Start(remote net.Addr, conn lib.NetReadWriter, tls bool, cookie string) (ergonode.HandshakeDetails, error) {
	return h.HandshakeInterface.Start(remote, &hidingConn{NetReadWriter: conn, tls: tls}, tls, cookie)
}

func (h hiddenHandshake) Accept(remote net.Addr, conn lib.NetReadWriter, tls bool, cookie string) (ergonode.HandshakeDetails, error) {
	return h.HandshakeInterface.Accept(remote, &hidingConn{NetReadWriter: conn, tls: tls}, tls, cookie)
}

// hidingConn clears DFLAG_PUBLISHED in outgoing send_name ('n', 'N') and
// send_challenge ('n', 'N') messages, and counts the messages written so a
// failed handshake can be attributed to its stage. With record, it also
// keeps the first bytes the peer sent (see peerSaid).
type hidingConn struct {
	lib.NetReadWriter
	tls    bool
	record bool

	mu     sync.Mutex
	writes int
	read   []byte // with record: the first maxRecorded bytes read
}

// maxRecorded bounds what a recording hidingConn keeps: the status and
// challenge messages of a handshake fit.
const maxRecorded = 1024

// Write sends b with DFLAG_PUBLISHED cleared, from a copy: the caller's
// buffer stays as it was.
func (c *hidingConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	c.writes++
	c.mu.Unlock()
	header := 2
	if c.tls {
		header = 4
	}
	flagByte := -1
	if len(b) > header {
		switch b[header] {
		case 'n':
			// 'n', version (2 bytes), flags (4 bytes, big endian)
			flagByte = header + 1 + 2 + 3
		case 'N':
			// 'N', flags (8 bytes, big endian)
			flagByte = header + 1 + 7
		}
	}
	if flagByte < 0 || flagByte >= len(b) || b[flagByte]&flagPublished == 0 {
		return c.NetReadWriter.Write(b)
	}
	out := append([]byte(nil), b...)
	out[flagByte] &^= flagPublished
	n, err := c.NetReadWriter.Write(out)
	return min(n, len(b)), err
}

// Read reads from the peer, keeping the first bytes with record.
func (c *hidingConn) Read(b []byte) (int, error) {
	n, err := c.NetReadWriter.Read(b)
	if c.record && n > 0 {
		c.mu.Lock()
		if room := maxRecorded - len(c.read); room > 0 {
			c.read = append(c.read, b[:min(n, room)]...)
		}
		c.mu.Unlock()
	}
	return n, err
}

// recorded returns the bytes the peer sent, with record.
func (c *hidingConn) recorded() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.read...)
}

func (c *hidingConn) messagesWritten() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes
}

// peerSaid reads the recorded handshake messages (a 2-byte length, 4 over
// TLS, then the message): the status the peer sent ("ok", "not_allowed",
// "alive", ...) and the name its challenge gave, each "" when absent.
func (c *hidingConn) peerSaid() (status, name string) {
	c.mu.Lock()
	b := c.read
	c.mu.Unlock()
	header := 2
	if c.tls {
		header = 4
	}
	for len(b) > header {
		var l int
		if c.tls {
			l = int(binary.BigEndian.Uint32(b))
		} else {
			l = int(binary.BigEndian.Uint16(b))
		}
		if l == 0 || l > len(b)-header {
			break
		}
		msg := b[header : header+l]
		b = b[header+l:]
		switch msg[0] {
		case 's':
			status = string(msg[1:])
		case 'n':
			// 'n', version (2), flags (4), challenge (4), name
			if len(msg) > 11 {
				name = string(msg[11:])
			}
		case 'N':
			// 'N', flags (8), challenge (4), creation (4), name length (2), name
			if len(msg) >= 19 {
				if nl := int(binary.BigEndian.Uint16(msg[17:19])); len(msg) >= 19+nl {
					name = string(msg[19 : 19+nl])
				}
			}
		}
	}
	return status, name
}
