package testkit

import (
	"net"
	"strconv"
	"testing"
)

// TestFreePort: a loopback port that can then be listened on.
func TestFreePort(t *testing.T) {
	p, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		t.Fatalf("FreePort gave %d, which cannot be listened on: %v", p, err)
	}
	l.Close()
}
