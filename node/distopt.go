package node

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
)

// DistTLS is the client side of TLS distribution as Erlang configures
// it: the client section of an ssl_dist_optfile, or the client_* options
// of -ssl_dist_opt. Only the options a Go client can honour are accepted;
// any other is refused by name.
type DistTLS struct {
	CertFile   string // certfile: our client certificate (PEM), possibly with its key
	KeyFile    string // keyfile: its key; empty reads it from CertFile
	CACertFile string // cacertfile: the CAs the nodes' certificates must chain to
	Verify     string // verify_peer (the default here) or verify_none
	// ServerName is server_name_indication: the name the nodes'
	// certificates must hold; empty takes each node's host, "disable"
	// checks the chain only.
	ServerName string
	Versions   []string // versions: tlsv1.2, tlsv1.3 (and older)
	Ciphers    []string // ciphers: OpenSSL or IANA names
	// Depth is depth: the most intermediate CAs a chain may hold (-1: unset).
	Depth int
}

// NewDistTLS returns an empty client configuration.
func NewDistTLS() DistTLS { return DistTLS{Depth: -1} }

// distTLSOptions are the client options DistTLS honours.
var distTLSOptions = []string{"certfile", "keyfile", "cacertfile", "verify", "server_name_indication", "versions", "ciphers",
	"depth", "secure_renegotiate", "reuse_sessions"}

// ReadSSLDistOptFile reads the client section of an ssl_dist_optfile
// (the file erl -ssl_dist_optfile reads: [{server, Opts}, {client, Opts}].).
// The server section is the nodes' own and is not read.
func ReadSSLDistOptFile(path string) (DistTLS, error) {
	d := NewDistTLS()
	b, err := os.ReadFile(path)
	if err != nil {
		return d, fmt.Errorf("cannot read it: %v", pathless(err))
	}
	terms, err := consultTerms(string(b))
	if err != nil {
		return d, fmt.Errorf("not an Erlang terms file: %v", err)
	}
	if len(terms) != 1 {
		return d, fmt.Errorf("want one term, [{server, [...]}, {client, [...]}], found %d", len(terms))
	}
	sections, ok := terms[0].([]any)
	if !ok {
		return d, errors.New("want a list of sections: [{server, [...]}, {client, [...]}]")
	}
	found := false
	for _, s := range sections {
		t, ok := s.(termTuple)
		if !ok || len(t) != 2 {
			return d, errors.New("every element must be {server, [...]} or {client, [...]}")
		}
		switch t[0] {
		case termAtom("server"):
			continue
		case termAtom("client"):
		default:
			return d, fmt.Errorf("unknown section %v: want server or client", t[0])
		}
		opts, ok := t[1].([]any)
		if !ok {
			return d, errors.New("the client section must be a list of {Option, Value}")
		}
		found = true
		for _, o := range opts {
			kv, ok := o.(termTuple)
			if !ok || len(kv) != 2 {
				return d, errors.New("the client section must be a list of {Option, Value}")
			}
			key, ok := kv[0].(termAtom)
			if !ok {
				return d, errors.New("the client section must be a list of {Option, Value} with atom options")
			}
			if err := d.set(string(key), kv[1]); err != nil {
				return d, err
			}
		}
	}
	if !found {
		return d, errors.New("it has no client section: the sidecar dials the nodes as a client, give it {client, [{certfile, ...}, {keyfile, ...}, {cacertfile, ...}, {verify, verify_peer}]}")
	}
	return d, nil
}

// SetOpt sets one option of the -ssl_dist_opt form: key client_certfile,
// client_verify, ..., the value as on erl's command line. Server options
// (server_*) are the nodes' own, as the server section of the file: they
// are passed over, as Erlang's client passes them over.
func (d *DistTLS) SetOpt(key, value string) error {
	opt, ok := strings.CutPrefix(key, "client_")
	if !ok {
		if strings.HasPrefix(key, "server_") {
			return nil
		}
		return fmt.Errorf("%s: options of the -ssl_dist_opt form start with client_ (or server_), e.g. client_certfile", key)
	}
	var v any = value
	switch opt {
	case "verify", "secure_renegotiate", "reuse_sessions":
		v = termAtom(value)
	case "versions":
		// -ssl_dist_opt takes one version; a comma-separated list is read too.
		var vs []any
		for _, s := range strings.Split(value, ",") {
			vs = append(vs, termAtom(strings.TrimSpace(s)))
		}
		v = vs
	case "ciphers":
		v = []any{value}
	case "depth":
		n, err := strconv.Atoi(value)
		if err != nil {
			return fmt.Errorf("client_depth: want an integer, got %q", value)
		}
		v = n
	case "server_name_indication":
		if value == "disable" {
			v = termAtom(value)
		}
	}
	if err := d.set(opt, v); err != nil {
		return fmt.Errorf("client_%v", err)
	}
	return nil
}

// set sets one client option from its Erlang term.
func (d *DistTLS) set(key string, v any) error {
	str := func() (string, error) {
		s, ok := v.(string)
		if !ok || s == "" {
			return "", fmt.Errorf("%s: want a file name as a string, e.g. {%s, \"/etc/mim-metrics/tls/...\"}", key, key)
		}
		return s, nil
	}
	var err error
	switch key {
	case "certfile":
		d.CertFile, err = str()
	case "keyfile":
		d.KeyFile, err = str()
	case "cacertfile":
		d.CACertFile, err = str()
	case "verify":
		if v != termAtom("verify_peer") && v != termAtom("verify_none") {
			return fmt.Errorf("verify: want verify_peer or verify_none, got %v", v)
		}
		d.Verify = string(v.(termAtom))
	case "server_name_indication":
		switch t := v.(type) {
		case termAtom:
			if t != "disable" {
				return fmt.Errorf("server_name_indication: want a host name as a string or disable, got %v", v)
			}
			d.ServerName = "disable"
		case string:
			if t == "" {
				return errors.New("server_name_indication: an empty host name")
			}
			d.ServerName = t
		default:
			return errors.New("server_name_indication: want a host name as a string or disable")
		}
	case "versions":
		list, ok := v.([]any)
		if !ok {
			return errors.New("versions: want a list, e.g. ['tlsv1.3', 'tlsv1.2']")
		}
		d.Versions = nil
		for _, e := range list {
			a, ok := e.(termAtom)
			if !ok {
				return errors.New("versions: want atoms, e.g. ['tlsv1.3', 'tlsv1.2']")
			}
			d.Versions = append(d.Versions, string(a))
		}
	case "ciphers":
		d.Ciphers = nil
		switch t := v.(type) {
		case string:
			d.Ciphers = splitCiphers(t)
		case []any:
			for _, e := range t {
				s, ok := e.(string)
				if !ok {
					return errors.New("ciphers: mim-metrics takes cipher suites by name (strings such as \"ECDHE-RSA-AES256-GCM-SHA384\"), not as maps or tuples")
				}
				d.Ciphers = append(d.Ciphers, splitCiphers(s)...)
			}
		default:
			return errors.New("ciphers: want a list of cipher suite names")
		}
	case "depth":
		n, ok := v.(int)
		if !ok || n < 0 {
			return errors.New("depth: want a non-negative integer")
		}
		d.Depth = n
	case "secure_renegotiate", "reuse_sessions":
		// Go's TLS client never renegotiates, and resumes no session
		// without a cache, which a connection that lasts has no use for:
		// either value is what it does.
		if v != termAtom("true") && v != termAtom("false") {
			return fmt.Errorf("%s: want true or false", key)
		}
	default:
		return fmt.Errorf("%s: mim-metrics cannot honour this option (it honours %s); remove it from the client options the sidecar is given", key, strings.Join(distTLSOptions, ", "))
	}
	return err
}

func splitCiphers(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ':' || r == ',' || r == ' ' })
}

// Config builds the TLS client configuration, reading the certificate,
// key and CA files. warnings says what the operator should know at start
// (verify_none). No error names a file: they name the option.
func (d DistTLS) Config() (cfg *tls.Config, warnings []string, err error) {
	cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	if d.CertFile != "" {
		key := d.KeyFile
		if key == "" {
			key = d.CertFile
		}
		certPEM, err := os.ReadFile(d.CertFile)
		if err != nil {
			return nil, nil, fmt.Errorf("certfile: cannot read it: %v", pathless(err))
		}
		keyPEM, err := os.ReadFile(key)
		if err != nil {
			return nil, nil, fmt.Errorf("keyfile: cannot read it: %v", pathless(err))
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, nil, fmt.Errorf("certfile/keyfile: not a usable certificate and key (PEM, unencrypted): %v", err)
		}
		// Sent whatever CAs the node names as acceptable (Go would send
		// none that is not of them), as Erlang's client does: the node then
		// says what is wrong with it.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	} else if d.KeyFile != "" {
		return nil, nil, errors.New("keyfile without certfile: give the client certificate with certfile")
	}
	verifyNone := d.Verify == "verify_none"
	var roots *x509.CertPool
	if d.CACertFile != "" {
		b, err := os.ReadFile(d.CACertFile)
		if err != nil {
			return nil, nil, fmt.Errorf("cacertfile: cannot read it: %v", pathless(err))
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(b) {
			return nil, nil, errors.New("cacertfile: no PEM certificate in it")
		}
		cfg.RootCAs = roots
	} else if !verifyNone {
		return nil, nil, errors.New("cacertfile missing: the nodes' certificates are verified against it (verify_peer); give the CA the nodes' certificates are signed by, or {verify, verify_none} to skip the check")
	}
	if err := d.versions(cfg); err != nil {
		return nil, nil, err
	}
	if err := d.ciphers(cfg); err != nil {
		return nil, nil, err
	}
	switch {
	case verifyNone:
		cfg.InsecureSkipVerify = true
		warnings = append(warnings, "TLS distribution with verify_none: the nodes' certificates are not checked, as the client options say")
	case d.ServerName == "disable":
		// Erlang's server_name_indication disable: the chain is checked,
		// the host name is not.
		cfg.InsecureSkipVerify = true
		depth := d.Depth
		cfg.VerifyConnection = func(cs tls.ConnectionState) error { return verifyChain(cs, roots, "", depth) }
	default:
		cfg.ServerName = d.ServerName
		if d.Depth >= 0 {
			depth := d.Depth
			cfg.VerifyConnection = func(cs tls.ConnectionState) error { return checkDepth(cs.VerifiedChains, depth) }
		}
	}
	return cfg, warnings, nil
}

// verifyChain verifies the peer's chain against roots, without its host
// name when name is "".
func verifyChain(cs tls.ConnectionState, roots *x509.CertPool, name string, depth int) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("the node sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	chains, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: name})
	if err != nil {
		return err
	}
	if depth >= 0 {
		return checkDepth(chains, depth)
	}
	return nil
}

// checkDepth accepts chains with at most depth intermediate CAs, as
// Erlang's depth option.
func checkDepth(chains [][]*x509.Certificate, depth int) error {
	for _, c := range chains {
		if len(c)-2 <= depth {
			return nil
		}
	}
	return fmt.Errorf("the node's certificate chain holds more than depth %d intermediate CAs", depth)
}

func (d DistTLS) versions(cfg *tls.Config) error {
	if len(d.Versions) == 0 {
		return nil
	}
	known := map[string]uint16{"tlsv1": tls.VersionTLS10, "tlsv1.1": tls.VersionTLS11, "tlsv1.2": tls.VersionTLS12, "tlsv1.3": tls.VersionTLS13}
	var vs []uint16
	for _, v := range d.Versions {
		n, ok := known[v]
		if !ok {
			return fmt.Errorf("versions: %s is not a TLS version mim-metrics speaks (tlsv1.2, tlsv1.3)", v)
		}
		vs = append(vs, n)
	}
	slices.Sort(vs)
	vs = slices.Compact(vs)
	for i := 1; i < len(vs); i++ {
		if vs[i] != vs[i-1]+1 {
			return errors.New("versions: Go speaks a range of TLS versions, not a gap in one: name consecutive versions")
		}
	}
	cfg.MinVersion, cfg.MaxVersion = vs[0], vs[len(vs)-1]
	return nil
}

// tls13Suites are TLS 1.3's cipher suites, which Go always offers all of.
var tls13Suites = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}

// opensslNames maps OpenSSL's names of cipher suites (which Erlang takes)
// to the IANA names Go uses.
var opensslNames = map[string]string{
	"ECDHE-ECDSA-AES128-GCM-SHA256": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
	"ECDHE-RSA-AES128-GCM-SHA256":   "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	"ECDHE-ECDSA-AES256-GCM-SHA384": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
	"ECDHE-RSA-AES256-GCM-SHA384":   "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	"ECDHE-ECDSA-CHACHA20-POLY1305": "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
	"ECDHE-RSA-CHACHA20-POLY1305":   "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
	"ECDHE-ECDSA-AES128-SHA256":     "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
	"ECDHE-RSA-AES128-SHA256":       "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
	"ECDHE-ECDSA-AES128-SHA":        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
	"ECDHE-RSA-AES128-SHA":          "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
	"ECDHE-ECDSA-AES256-SHA":        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
	"ECDHE-RSA-AES256-SHA":          "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
	"AES128-GCM-SHA256":             "TLS_RSA_WITH_AES_128_GCM_SHA256",
	"AES256-GCM-SHA384":             "TLS_RSA_WITH_AES_256_GCM_SHA384",
	"AES128-SHA256":                 "TLS_RSA_WITH_AES_128_CBC_SHA256",
	"AES128-SHA":                    "TLS_RSA_WITH_AES_128_CBC_SHA",
	"AES256-SHA":                    "TLS_RSA_WITH_AES_256_CBC_SHA",
}

// ciphers restricts TLS 1.2's suites to those named. Go cannot restrict
// TLS 1.3's: a list without them limits the connection to TLS 1.2 (as it
// does in Erlang), a list of some but not all of them is refused.
func (d DistTLS) ciphers(cfg *tls.Config) error {
	if len(d.Ciphers) == 0 {
		return nil
	}
	ids := map[string]uint16{}
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		ids[s.Name] = s.ID
	}
	n13 := 0
	for _, c := range d.Ciphers {
		name := c
		if iana, ok := opensslNames[c]; ok {
			name = iana
		}
		if slices.Contains(tls13Suites, name) {
			n13++
			continue
		}
		id, ok := ids[name]
		if !ok {
			return fmt.Errorf("ciphers: %s is not a cipher suite Go's TLS speaks", c)
		}
		cfg.CipherSuites = append(cfg.CipherSuites, id)
	}
	switch {
	case n13 == 0:
		if cfg.MaxVersion == 0 || cfg.MaxVersion > tls.VersionTLS12 {
			cfg.MaxVersion = tls.VersionTLS12
		}
		if cfg.MinVersion > tls.VersionTLS12 {
			return errors.New("ciphers: no TLS 1.3 suite among them, but versions allow only TLS 1.3")
		}
	case n13 == len(tls13Suites) && len(cfg.CipherSuites) == 0:
		cfg.MinVersion = tls.VersionTLS13
	case n13 < len(tls13Suites):
		return fmt.Errorf("ciphers: Go offers every TLS 1.3 suite (%s) or none: name all three, or none and TLS 1.2 is used", strings.Join(tls13Suites, ", "))
	}
	return nil
}

// pathless is an file error without its path: key paths are never shown.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
