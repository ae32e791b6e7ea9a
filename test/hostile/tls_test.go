package hostile_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// writeCert writes a self-signed loopback certificate named cn and its key.
func writeCert(t *testing.T, certFile, keyFile, cn string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// The key first: a reload between the two writes sees a mismatched
	// pair, and keeps the previous one.
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTLS (item 7): --tls-cert/--tls-key serve HTTPS with HTTP/2; the
// certificate is read again on SIGHUP and when its files change; a login
// over it gets a Secure cookie.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first := writeCert(t, certFile, keyFile, "first")
	p := start(t, "sqlite:"+filepath.Join(dir, "r.db"), "--tls-cert", certFile, "--tls-key", keyFile)
	// served asks with a fresh connection trusting any of the certs and
	// returns the protocol and the certificate's name.
	served := func(trust ...*x509.Certificate) (string, string) {
		pool := x509.NewCertPool()
		for _, c := range trust {
			pool.AddCert(c)
		}
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr, Timeout: 20 * time.Second}).Get(p.URL + "/healthz")
		if err != nil {
			t.Fatalf("GET over TLS: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("healthz over TLS: %d", resp.StatusCode)
		}
		return resp.Proto, resp.TLS.PeerCertificates[0].Subject.CommonName
	}
	if proto, cn := served(first); proto != "HTTP/2.0" || cn != "first" {
		t.Errorf("over TLS: %s, certificate %q; want HTTP/2.0 and first", proto, cn)
	}
	p.client.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	if _, c := login(t, p, adminToken); c == nil || !c.Secure {
		t.Errorf("a login over TLS: %+v, want a Secure cookie", c)
	}

	second := writeCert(t, certFile, keyFile, "second")
	if err := p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	var cn string
	if !waitFor(15*time.Second, func() bool { _, cn = served(first, second); return cn == "second" }) {
		t.Errorf("after SIGHUP the certificate is still %q", cn)
	}
	// Changed files are read again without a signal.
	third := writeCert(t, certFile, keyFile, "third")
	if !waitFor(20*time.Second, func() bool { _, cn = served(first, second, third); return cn == "third" }) {
		t.Errorf("20 s after the files changed the certificate is still %q", cn)
	}
	// A broken pair keeps the last good one.
	if err := os.WriteFile(certFile, []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = p.Signal(syscall.SIGHUP)
	if !waitFor(10*time.Second, func() bool { return p.logLines("could not be reloaded") > 0 }) {
		t.Error("a broken certificate file: no warning")
	}
	if _, cn = served(third); cn != "third" {
		t.Errorf("after a broken reload the certificate is %q, want third", cn)
	}
}
