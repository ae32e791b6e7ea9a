package receiver

import (
	"net/http"
	"time"
)

// Timeouts bound how long a client may take; a client that trickles its
// request (slowloris) is cut off.
type Timeouts struct {
	// ReadHeader is the time to send the request's headers.
	ReadHeader time.Duration
	// Read is the time to send the whole request.
	Read time.Duration
	// Write is the time from the end of the headers to the end of the answer.
	Write time.Duration
	// Idle is how long a kept-alive connection may wait for the next request.
	Idle time.Duration
}

// DefaultTimeouts are generous for a sidecar on a slow link and short for
// a client that holds connections open.
var DefaultTimeouts = Timeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Write: 60 * time.Second, Idle: 120 * time.Second}

// NewServer is an http.Server for h on addr with the timeouts t.
func NewServer(addr string, h http.Handler, t Timeouts) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    32 << 10,
	}
}
