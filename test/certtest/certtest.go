// Package certtest makes the certificates of TLS tests: certificate
// authorities, and the certificates they sign (for both ends of a
// connection, valid or expired), written as PEM files.
package certtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// CA is a certificate authority a test makes, which writes the
// certificates it signs under its directory.
type CA struct {
	dir  string
	name string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// CAFile is the CA's certificate, for cacertfile.
	CAFile string
}

// NewCA makes a CA called name and writes its certificate under dir.
func NewCA(dir, name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	p := &CA{dir: dir, name: name, cert: cert, key: key, CAFile: filepath.Join(dir, name+"-ca.pem")}
	return p, writePEM(p.CAFile, "CERTIFICATE", der)
}

// Spec says what a certificate holds.
type Spec struct {
	Name    string   // file names: Name.pem and Name.key
	DNS     []string // DNS names it is for
	IPs     []string // IP addresses it is for
	Expired bool     // valid until an hour ago
}

// Issue signs a certificate for both ends of a connection (server and
// client authentication) and returns its certificate and key files.
func (p *CA) Issue(s Spec) (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	notBefore, notAfter := time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	if s.Expired {
		notBefore, notAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: s.Name},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:     s.DNS,
	}
	for _, ip := range s.IPs {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(ip))
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	if err != nil {
		return "", "", err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	certFile, keyFile = filepath.Join(p.dir, s.Name+".pem"), filepath.Join(p.dir, s.Name+".key")
	if err := writePEM(certFile, "CERTIFICATE", der); err != nil {
		return "", "", err
	}
	return certFile, keyFile, writePEM(keyFile, "PRIVATE KEY", keyDER)
}

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}

// OptFile writes an ssl_dist_optfile whose server and client sections
// both use certFile and keyFile and trust caFile, verifying the peer and
// requiring its certificate, as a production cluster does.
func OptFile(path, certFile, keyFile, caFile string) error {
	opts := fmt.Sprintf(`{certfile, %q}, {keyfile, %q}, {cacertfile, %q}, {verify, verify_peer}`, certFile, keyFile, caFile)
	src := fmt.Sprintf("%% written by test/certtest\n[{server, [%s, {fail_if_no_peer_cert, true}]},\n {client, [%s]}].\n", opts, opts)
	return os.WriteFile(path, []byte(src), 0o600)
}
