package node

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a self-signed certificate and its key under dir.
func selfSigned(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "t"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(k)
	cert, key = filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	return cert, key
}

func writeFile(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "dist.conf")
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadSSLDistOptFileReadsTheClientSection(t *testing.T) {
	p := writeFile(t, `%% as the nodes have it
[{server, [{certfile, "/srv/node.pem"}, {fail_if_no_peer_cert, true}, {hibernate_after, 500}]},
 {client, [{certfile, "/etc/c.pem"}, {keyfile, <<"/etc/k.pem">>}, {cacertfile, "/etc/ca.pem"},
           {verify, verify_peer}, {server_name_indication, "db.example.org"},
           {versions, ['tlsv1.3', 'tlsv1.2']}, {ciphers, ["ECDHE-RSA-AES256-GCM-SHA384"]},
           {secure_renegotiate, true}, {depth, 3}]}].
`)
	d, err := ReadSSLDistOptFile(p)
	if err != nil {
		t.Fatal(err)
	}
	want := DistTLS{CertFile: "/etc/c.pem", KeyFile: "/etc/k.pem", CACertFile: "/etc/ca.pem", Verify: "verify_peer",
		ServerName: "db.example.org", Versions: []string{"tlsv1.3", "tlsv1.2"}, Ciphers: []string{"ECDHE-RSA-AES256-GCM-SHA384"}, Depth: 3}
	if d.CertFile != want.CertFile || d.KeyFile != want.KeyFile || d.CACertFile != want.CACertFile || d.Verify != want.Verify ||
		d.ServerName != want.ServerName || strings.Join(d.Versions, ",") != "tlsv1.3,tlsv1.2" || len(d.Ciphers) != 1 || d.Depth != 3 {
		t.Errorf("got %+v, want %+v", d, want)
	}
}

func TestReadSSLDistOptFileRefusesByName(t *testing.T) {
	cases := map[string]string{
		`[{client, [{password, "x"}]}].`:                       "password: mim-metrics cannot honour this option",
		`[{client, [{verify_fun, {m, f, []}}]}].`:              "verify_fun: mim-metrics cannot honour",
		`[{server, []}].`:                                      "no client section",
		`[{client, [{verify, maybe}]}].`:                       "verify: want verify_peer or verify_none",
		`[{client, [{ciphers, [#{cipher => aes}]}]}].`:         "unexpected '#'",
		`[{client, [{certfile, "a"}]}]`:                        "expected \".\"",
		`[{cluster, []}].`:                                     "unknown section cluster",
		`[{client, [{versions, ['sslv3']}]}].`:                 "", // refused by Config
		`[{client, [{server_name_indication, sometimes}]}].`:   "server_name_indication: want a host name",
		`[{client, [{certfile, "a"}]}]. [{client, []}].`:       "want one term",
		`[{client, [{depth, -1}]}].`:                           "depth: want a non-negative integer",
		`[{client, [{reuse_sessions, "yes"}]}].`:               "reuse_sessions: want true or false",
		`[{client, [{certfile, ""}]}].`:                        "certfile: want a file name",
		`[{client, [{log_level, debug}, {certfile, "a"}]}].`:   "log_level: mim-metrics cannot honour",
		`[{client, [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]}].`: "nested deeper",
	}
	for src, want := range cases {
		_, err := ReadSSLDistOptFile(writeFile(t, src))
		if want == "" {
			if err != nil {
				t.Errorf("%s: %v", src, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", src, err, want)
		}
	}
	if _, err := ReadSSLDistOptFile(filepath.Join(t.TempDir(), "secret-dir", "none.conf")); err == nil || strings.Contains(err.Error(), "secret-dir") {
		t.Errorf("a missing file: %v (must fail without its path)", err)
	}
}

func TestSetOptTakesTheSslDistOptForm(t *testing.T) {
	d := NewDistTLS()
	for _, kv := range [][2]string{{"client_certfile", "/c.pem"}, {"client_keyfile", "/k.pem"}, {"client_cacertfile", "/ca.pem"},
		{"client_verify", "verify_none"}, {"client_versions", "tlsv1.2"}, {"client_ciphers", "ECDHE-RSA-AES128-GCM-SHA256"},
		{"server_certfile", "/node.pem"}, {"server_fail_if_no_peer_cert", "true"}, {"client_depth", "2"}} {
		if err := d.SetOpt(kv[0], kv[1]); err != nil {
			t.Fatalf("%s: %v", kv[0], err)
		}
	}
	if d.CertFile != "/c.pem" || d.KeyFile != "/k.pem" || d.CACertFile != "/ca.pem" || d.Verify != "verify_none" || d.Depth != 2 ||
		len(d.Versions) != 1 || len(d.Ciphers) != 1 {
		t.Errorf("got %+v", d)
	}
	for key, want := range map[string]string{"client_password": "client_password: mim-metrics cannot honour", "certfile": "start with client_",
		"client_depth": "want an integer"} {
		if err := d.SetOpt(key, "x"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", key, err, want)
		}
	}
}

func TestConfigHonoursOrRefuses(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	base := DistTLS{CertFile: cert, KeyFile: key, CACertFile: cert, Depth: -1}

	cfg, warnings, err := base.Config()
	if err != nil || len(warnings) != 0 || cfg.InsecureSkipVerify || cfg.RootCAs == nil || cfg.GetClientCertificate == nil {
		t.Fatalf("verify_peer: %+v %v %v", cfg, warnings, err)
	}
	none := base
	none.Verify, none.CACertFile = "verify_none", ""
	if cfg, warnings, err := none.Config(); err != nil || !cfg.InsecureSkipVerify || len(warnings) != 1 || !strings.Contains(warnings[0], "verify_none") {
		t.Errorf("verify_none: %v %v", warnings, err)
	}
	noCA := base
	noCA.CACertFile = ""
	if _, _, err := noCA.Config(); err == nil || !strings.Contains(err.Error(), "cacertfile missing") {
		t.Errorf("verify_peer without a CA: %v", err)
	}
	combined := base
	combined.KeyFile = ""
	both := filepath.Join(dir, "both.pem")
	c, _ := os.ReadFile(cert)
	k, _ := os.ReadFile(key)
	os.WriteFile(both, append(c, k...), 0o600)
	combined.CertFile = both
	if _, _, err := combined.Config(); err != nil {
		t.Errorf("key in the certfile: %v", err)
	}

	v := base
	v.Ciphers = []string{"ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"}
	if cfg, _, err := v.Config(); err != nil || len(cfg.CipherSuites) != 2 || cfg.MaxVersion != tls.VersionTLS12 {
		t.Errorf("TLS 1.2 ciphers only: %v %v, want two suites and TLS 1.2 at most", cfg, err)
	}
	v.Ciphers = []string{"TLS_AES_128_GCM_SHA256"}
	if _, _, err := v.Config(); err == nil || !strings.Contains(err.Error(), "TLS 1.3 suite") {
		t.Errorf("a TLS 1.3 suite of three: %v", err)
	}
	v.Ciphers = tls13Suites
	if cfg, _, err := v.Config(); err != nil || cfg.MinVersion != tls.VersionTLS13 {
		t.Errorf("every TLS 1.3 suite: %v", err)
	}
	v.Ciphers = []string{"RC5-MD2"}
	if _, _, err := v.Config(); err == nil || !strings.Contains(err.Error(), "RC5-MD2") {
		t.Errorf("an unknown suite: %v", err)
	}
	v.Ciphers = nil
	v.Versions = []string{"tlsv1.3"}
	if cfg, _, err := v.Config(); err != nil || cfg.MinVersion != tls.VersionTLS13 || cfg.MaxVersion != tls.VersionTLS13 {
		t.Errorf("versions tlsv1.3: %v", err)
	}
	v.Versions = []string{"tlsv1.3", "tlsv1.1"}
	if _, _, err := v.Config(); err == nil || !strings.Contains(err.Error(), "consecutive") {
		t.Errorf("versions with a gap: %v", err)
	}
	v.Versions = []string{"sslv3"}
	if _, _, err := v.Config(); err == nil || !strings.Contains(err.Error(), "sslv3") {
		t.Errorf("sslv3: %v", err)
	}

	missing := base
	missing.CertFile = filepath.Join(dir, "private-keys", "gone.pem")
	if _, _, err := missing.Config(); err == nil || strings.Contains(err.Error(), "private-keys") || !strings.Contains(err.Error(), "certfile") {
		t.Errorf("missing certfile: %v (must name the option, not the path)", err)
	}
}

func TestDistCheck(t *testing.T) {
	if err := (Dist{Proto: "inet_tls"}).check(); err == nil || !strings.Contains(err.Error(), "--ssl-dist-optfile") {
		t.Errorf("TLS without options: %v", err)
	}
	if err := (Dist{TLS: &tls.Config{}}).check(); err == nil || !strings.Contains(err.Error(), "--proto-dist inet_tls") {
		t.Errorf("TLS options with inet_tcp: %v", err)
	}
	if err := (Dist{Proto: "inet_sctp"}).check(); err == nil {
		t.Error("inet_sctp accepted")
	}
	if n, _ := ParseName("n@::1"); !n.Long || n.Host != "::1" {
		t.Errorf("n@::1: %+v, want a long name on ::1", n)
	}
}

func TestRegistrarDialsTheDistPortWithoutEPMD(t *testing.T) {
	t.Setenv("ERL_EPMD_PORT", "1") // an EPMD asked would fail
	r, err := newDialOnlyRegistrar(Dist{Port: 4370}).Resolve("mongooseim@db1.example.org")
	if err != nil || r.Port != 4370 || r.Host != "db1.example.org" {
		t.Errorf("route %+v, %v: want db1.example.org:4370", r, err)
	}
}
