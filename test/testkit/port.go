package testkit

import (
	"fmt"
	"net"
)

// FreePort returns a loopback TCP port that was free a moment ago: for a
// process that must be told its port before it listens.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
