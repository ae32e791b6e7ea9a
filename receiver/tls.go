package receiver

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"
)

// certCheckEvery is how often a handshake looks whether the certificate
// files changed.
const certCheckEvery = 5 * time.Second

// CertReloader serves a PEM certificate and key pair that is read again
// when the files change (looked at on a handshake, at most every 5
// seconds) or on Reload (SIGHUP). A pair that does not load keeps the
// previous one, with a warning: a renewal half written never stops TLS.
type CertReloader struct {
	certFile, keyFile string
	log               *zap.Logger
	now               func() time.Time

	mu        sync.Mutex
	cert      *tls.Certificate
	stamp     string // the files' sizes and times when read
	lastCheck time.Time
}

// NewCertReloader reads the pair once: an error is for the operator.
func NewCertReloader(certFile, keyFile string, log *zap.Logger) (*CertReloader, error) {
	if log == nil {
		log = zap.NewNop()
	}
	c := &CertReloader{certFile: certFile, keyFile: keyFile, log: log, now: time.Now}
	if err := c.load(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *CertReloader) fileStamp() string {
	var s string
	for _, f := range []string{c.certFile, c.keyFile} {
		if fi, err := os.Stat(f); err == nil {
			s += fmt.Sprintf("%d/%d;", fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return s
}

// load reads the pair; c.mu is held or c is not shared yet.
func (c *CertReloader) load() error {
	stamp := c.fileStamp()
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("load the TLS certificate (--tls-cert, --tls-key): %w", err)
	}
	c.cert, c.stamp = &cert, stamp
	return nil
}

// Reload reads the pair again now (SIGHUP); on failure the previous pair
// stays.
func (c *CertReloader) Reload() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reload("reloaded on SIGHUP")
}

func (c *CertReloader) reload(why string) {
	if err := c.load(); err != nil {
		c.stamp = c.fileStamp() // not again until the files change again
		c.log.Warn("the TLS certificate could not be reloaded: the previous one is served", zap.Error(err))
		return
	}
	c.log.Info("TLS certificate " + why)
}

// GetCertificate is tls.Config's: the pair, read again if the files
// changed.
func (c *CertReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); now.Sub(c.lastCheck) >= certCheckEvery {
		c.lastCheck = now
		if c.fileStamp() != c.stamp {
			c.reload("reloaded: its files changed")
		}
	}
	return c.cert, nil
}

// TLSConfig is a server configuration with the reloader's certificate,
// TLS 1.2 or later, HTTP/2 and HTTP/1.1.
func (c *CertReloader) TLSConfig() *tls.Config {
	return &tls.Config{GetCertificate: c.GetCertificate, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
}
