package node

import (
	"fmt"
	"io"
)

// secret holds the cookie inside a function, so that it prints as
// "(hidden)" with every verb, and a struct that holds one prints a code
// address: no log line or error can show the cookie. Calling it hands the
// cookie to the handshake.
type secret func() string

func newSecret(s string) secret { return func() string { return s } }

func (s secret) reveal() string { return s() }

func (secret) String() string   { return "(hidden)" }
func (secret) GoString() string { return "(hidden)" }

// Format prints "(hidden)" whatever the verb and flags.
func (secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "(hidden)") }

// MarshalText keeps the cookie out of JSON and zap's reflection encoders.
func (secret) MarshalText() ([]byte, error) { return []byte("(hidden)"), nil }
