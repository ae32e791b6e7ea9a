package main

import (
	"flag"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/mim-metrics/mim-metrics/node"
)

// distConfig is how the nodes speak distribution, as their vm.dist.args
// say it: -proto_dist, -ssl_dist_optfile, -ssl_dist_opt, -erl_epmd_port.
type distConfig struct {
	proto   string
	optFile string
	opts    listFlag
	port    int

	// set by validate
	dist     node.Dist
	warnings []string // said at start (verify_none)
}

func addDistFlags(fs *flag.FlagSet, d *distConfig) {
	fs.StringVar(&d.proto, "proto-dist", "inet_tcp", "the nodes' distribution protocol, as their -proto_dist: inet_tcp, inet6_tcp, inet_tls or inet6_tls")
	fs.StringVar(&d.optFile, "ssl-dist-optfile", "", "TLS distribution: a file like the nodes' -ssl_dist_optfile; its client section gives our certfile, keyfile, cacertfile, verify, server_name_indication, versions, ciphers")
	fs.Var(&d.opts, "ssl-dist-opt", "TLS distribution: client options as vm.dist.args' -ssl_dist_opt gives them, client_certfile=FILE or \"client_certfile FILE client_cacertfile FILE ...\" (repeatable; wins over --ssl-dist-optfile)")
	fs.Var(portFlag{&d.port}, "dist-port", "the nodes' distribution port when they run without EPMD (their -erl_epmd_port or ERL_DIST_PORT, which is read too); dialled on every member instead of asking EPMD")
}

// portFlag is a TCP port.
type portFlag struct{ p *int }

func (f portFlag) String() string {
	if f.p == nil || *f.p == 0 {
		return ""
	}
	return strconv.Itoa(*f.p)
}
func (f portFlag) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q is not a port: want a number from 1 to 65535", s)
	}
	*f.p = n
	return nil
}

// readErlDistPort takes ERL_DIST_PORT, as erl reads it, when neither
// --dist-port nor its environment twin is given.
func (d *distConfig) readErlDistPort(set map[string]bool, getenv func(string) string) error {
	if set["dist-port"] {
		return nil
	}
	v := getenv("ERL_DIST_PORT")
	if v == "" {
		return nil
	}
	if err := (portFlag{&d.port}).Set(v); err != nil {
		return usagef("ERL_DIST_PORT: %v", err)
	}
	return nil
}

// validate checks the flags and reads the TLS files, so that a mistake in
// them is a usage error before anything starts. No error shows a path of
// a key or certificate: they name the option.
func (d *distConfig) validate(nodes []string) error {
	if !slices.Contains(node.Protos, d.proto) {
		return usagef("--proto-dist must be inet_tcp, inet6_tcp, inet_tls or inet6_tls (as the nodes' -proto_dist), got %q", d.proto)
	}
	v6 := strings.HasPrefix(d.proto, "inet6")
	for _, n := range nodes {
		_, host, _ := strings.Cut(n, "@")
		ip := net.ParseIP(host)
		switch {
		case ip != nil && ip.To4() == nil && !v6:
			return usagef("--node %s has an IPv6 address: give --proto-dist %s, as the nodes' -proto_dist", n, strings.Replace(d.proto, "inet_", "inet6_", 1))
		case ip != nil && ip.To4() != nil && v6:
			return usagef("--node %s has an IPv4 address, which %s does not speak: give --proto-dist %s, as the nodes' -proto_dist", n, d.proto, strings.Replace(d.proto, "inet6_", "inet_", 1))
		}
	}
	d.dist = node.Dist{Proto: d.proto, Port: d.port}
	tlsGiven := d.optFile != "" || len(d.opts) > 0
	isTLS := strings.HasSuffix(d.proto, "_tls")
	switch {
	case tlsGiven && !isTLS:
		return usagef("--ssl-dist-optfile and --ssl-dist-opt are for TLS distribution: add --proto-dist %s, as the nodes' -proto_dist", strings.Replace(d.proto, "_tcp", "_tls", 1))
	case isTLS && !tlsGiven:
		return usagef("--proto-dist %s needs our client certificate and the nodes' CA: give --ssl-dist-optfile FILE (a file like the nodes' ssl_dist_optfile) or --ssl-dist-opt client_certfile=FILE --ssl-dist-opt client_keyfile=FILE --ssl-dist-opt client_cacertfile=FILE", d.proto)
	case !isTLS:
		return nil
	}
	opts := node.NewDistTLS()
	if d.optFile != "" {
		var err error
		if opts, err = node.ReadSSLDistOptFile(d.optFile); err != nil {
			return usagef("--ssl-dist-optfile: %v", err)
		}
	}
	for _, o := range d.opts {
		pairs, err := optPairs(o)
		if err != nil {
			return usagef("--ssl-dist-opt: %v", err)
		}
		for _, kv := range pairs {
			if err := opts.SetOpt(kv[0], kv[1]); err != nil {
				return usagef("--ssl-dist-opt: %v", err)
			}
		}
	}
	cfg, warnings, err := opts.Config()
	if err != nil {
		return usagef("TLS distribution: %v", err)
	}
	d.dist.TLS, d.warnings = cfg, warnings
	return nil
}

// optPairs reads one --ssl-dist-opt: key=value, or the words of
// vm.dist.args' -ssl_dist_opt, key value key value ...
func optPairs(s string) ([][2]string, error) {
	if k, v, ok := strings.Cut(s, "="); ok && !strings.ContainsAny(k, " \t") {
		return [][2]string{{strings.TrimSpace(k), strings.TrimSpace(v)}}, nil
	}
	words := strings.Fields(s)
	if len(words) > 0 && words[0] == "-ssl_dist_opt" {
		words = words[1:]
	}
	if len(words) == 0 || len(words)%2 != 0 {
		return nil, fmt.Errorf("want client_option=value, or option and value pairs as after -ssl_dist_opt in vm.dist.args (%d words)", len(words))
	}
	var out [][2]string
	for i := 0; i < len(words); i += 2 {
		out = append(out, [2]string{words[i], words[i+1]})
	}
	return out, nil
}
