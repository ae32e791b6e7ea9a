package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDistFlagsBadInputIsExitTwo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := filepath.Join(dir, "dist.conf")
	os.WriteFile(conf, []byte(`[{client, [{certfile, "/nonexistent/keys/c.pem"}, {cacertfile, "/nonexistent/keys/ca.pem"}]}].`), 0o600)
	badOpt := filepath.Join(dir, "bad.conf")
	os.WriteFile(badOpt, []byte(`[{client, [{password, "hunter2"}]}].`), 0o600)
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown protocol", []string{"check", "--node", "a@b", "--proto-dist", "inet_sctp"}, nil, "--proto-dist must be inet_tcp, inet6_tcp, inet_tls or inet6_tls"},
		{"TLS without options", []string{"check", "--node", "a@b", "--proto-dist", "inet_tls"}, nil, "--proto-dist inet_tls needs our client certificate"},
		{"options without TLS", []string{"check", "--node", "a@b", "--ssl-dist-optfile", conf}, nil, "add --proto-dist inet_tls"},
		{"options without TLS, IPv6", []string{"check", "--node", "a@b", "--proto-dist", "inet6_tcp", "--ssl-dist-opt", "client_certfile=x"}, nil, "add --proto-dist inet6_tls"},
		{"an option that cannot be honoured", []string{"check", "--node", "a@b", "--proto-dist", "inet_tls", "--ssl-dist-optfile", badOpt}, nil, "password: mim-metrics cannot honour"},
		{"unreadable certfile", []string{"check", "--node", "a@b", "--proto-dist", "inet_tls", "--ssl-dist-optfile", conf}, nil, "certfile: cannot read it"},
		{"odd words", []string{"check", "--node", "a@b", "--proto-dist", "inet_tls", "--ssl-dist-opt", "client_certfile"}, nil, "option and value pairs"},
		{"bad port", []string{"check", "--node", "a@b", "--dist-port", "0"}, nil, "--dist-port: \"0\" is not a port"},
		{"bad ERL_DIST_PORT", []string{"check", "--node", "a@b"}, map[string]string{"ERL_DIST_PORT": "x"}, "ERL_DIST_PORT: \"x\" is not a port"},
		{"IPv6 host, IPv4 protocol", []string{"check", "--node", "a@::1"}, nil, "--node a@::1 has an IPv6 address: give --proto-dist inet6_tcp"},
		{"IPv4 host, IPv6 protocol", []string{"check", "--node", "a@127.0.0.1", "--proto-dist", "inet6_tls"}, nil, "has an IPv4 address, which inet6_tls does not speak: give --proto-dist inet_tls"},
		{"env twin", []string{"check", "--node", "a@b"}, map[string]string{"MIM_METRICS_PROTO_DIST": "inet_tls"}, "--proto-dist inet_tls needs"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runMain(t, c.args, c.env)
			if code != exitUsage || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stdout %q, stderr %q: want exit 2 and one line with %q", code, stdout, stderr, c.want)
			}
			if strings.Contains(stderr, "/nonexistent/keys") || strings.Contains(stderr, "hunter2") {
				t.Errorf("a key path or secret shown: %s", stderr)
			}
		})
	}
}

func TestDistFlags(t *testing.T) {
	t.Parallel()
	c, err := parseArgs([]string{"check", "--node", "a@b", "--dist-port", "4370"}, env(map[string]string{"ERL_DIST_PORT": "9999"}), io.Discard)
	if err != nil || c.dist.dist.Port != 4370 {
		t.Errorf("--dist-port wins over ERL_DIST_PORT: %+v %v", c, err)
	}
	c, err = parseArgs([]string{"check", "--node", "a@b"}, env(map[string]string{"ERL_DIST_PORT": "9999"}), io.Discard)
	if err != nil || c.dist.dist.Port != 9999 {
		t.Errorf("ERL_DIST_PORT is read as erl reads it: %+v %v", c, err)
	}
	c, err = parseArgs([]string{"check", "--node", "a@::1", "--proto-dist", "inet6_tcp"}, env(nil), io.Discard)
	if err != nil || c.dist.dist.Proto != "inet6_tcp" {
		t.Errorf("inet6_tcp: %v", err)
	}
	pairs, err := optPairs("-ssl_dist_opt server_certfile /s.pem client_certfile /c.pem client_verify verify_peer")
	if err != nil || len(pairs) != 3 || pairs[1] != [2]string{"client_certfile", "/c.pem"} {
		t.Errorf("the vm.dist.args form: %v %v", pairs, err)
	}
}

func TestVerifyNoneIsWarnedAtStart(t *testing.T) {
	t.Parallel()
	cookie := filepath.Join(t.TempDir(), "cookie")
	os.WriteFile(cookie, []byte("C"), 0o400)
	code, stdout, stderr := runMain(t, []string{"check", "--node", "nosuch_tls@localhost", "--cookie-file", cookie, "--timeout", "5s",
		"--proto-dist", "inet_tls", "--ssl-dist-opt", "client_verify=verify_none"}, nil)
	if code != exitFailure || !strings.Contains(stdout, "verify_none: the nodes' certificates are not checked") {
		t.Errorf("exit %d, stdout %q, stderr %q: want a warning of verify_none at start", code, stdout, stderr)
	}
}
