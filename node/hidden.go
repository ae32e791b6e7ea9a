package node

import (
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
// failed handshake can be attributed to its stage.
type hidingConn struct {
	lib.NetReadWriter
	tls bool

	mu     sync.Mutex
	writes int
}

func (c *hidingConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	c.writes++
	c.mu.Unlock()
	header := 2
	if c.tls {
		header = 4
	}
	if len(b) > header {
		switch b[header] {
		case 'n':
			// 'n', version (2 bytes), flags (4 bytes, big endian)
			if i := header + 1 + 2 + 3; i < len(b) {
				b[i] &^= flagPublished
			}
		case 'N':
			// 'N', flags (8 bytes, big endian)
			if i := header + 1 + 7; i < len(b) {
				b[i] &^= flagPublished
			}
		}
	}
	return c.NetReadWriter.Write(b)
}

func (c *hidingConn) messagesWritten() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes
}
