package node

import (
	"crypto/tls"
	"fmt"
)

// Dist says how the cluster's nodes speak distribution, as erl's
// -proto_dist, -ssl_dist_optfile and -erl_epmd_port say it.
type Dist struct {
	// Proto is inet_tcp (the default when empty), inet6_tcp, inet_tls or
	// inet6_tls. The sidecar dials a host name over either family, as
	// ergo does, so inet6 and inet differ only in the addresses a node
	// name may hold (the command checks them).
	Proto string
	// TLS is the client side of TLS distribution (see DistTLS.Config):
	// required with inet_tls and inet6_tls, refused with the others.
	TLS *tls.Config
	// Port, when not 0, is the distribution port of every member: it is
	// dialled instead of asking EPMD (nodes without EPMD).
	Port int
}

// Protos are the values of Dist.Proto.
var Protos = []string{"inet_tcp", "inet6_tcp", "inet_tls", "inet6_tls"}

// check says what is wrong with d.
func (d Dist) check() error {
	switch d.Proto {
	case "", "inet_tcp", "inet6_tcp":
		if d.TLS != nil {
			return fmt.Errorf("TLS client options given but the distribution protocol is %s: give --proto-dist inet_tls (or inet6_tls) as the nodes' -proto_dist", d.proto())
		}
	case "inet_tls", "inet6_tls":
		if d.TLS == nil {
			return fmt.Errorf("--proto-dist %s needs the client's certificates: give --ssl-dist-optfile FILE (the cluster's ssl_dist_optfile) or --ssl-dist-opt client_certfile=FILE (and client_keyfile, client_cacertfile)", d.Proto)
		}
	default:
		return fmt.Errorf("unknown distribution protocol %q: want inet_tcp, inet6_tcp, inet_tls or inet6_tls", d.Proto)
	}
	if d.Port < 0 || d.Port > 65535 {
		return fmt.Errorf("distribution port %d: want 1 to 65535", d.Port)
	}
	return nil
}

func (d Dist) proto() string {
	if d.Proto == "" {
		return "inet_tcp"
	}
	return d.Proto
}

func (d Dist) usesTLS() bool { return d.Proto == "inet_tls" || d.Proto == "inet6_tls" }

// tlsFor is the TLS configuration to dial host with: the node's host
// name is the name its certificate must hold, unless the options name
// another.
func (d Dist) tlsFor(host string) *tls.Config {
	cfg := d.TLS.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	return cfg
}
