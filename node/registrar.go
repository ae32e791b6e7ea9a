package node

import (
	"context"
	"time"

	ergonode "github.com/ergo-services/ergo/node"
	"github.com/ergo-services/ergo/proto/dist"
)

// resolveTimeout bounds one EPMD look-up.
const resolveTimeout = 3 * time.Second

// dialOnlyRegistrar resolves peers through their host's EPMD but never
// registers this node: a sidecar only dials out, and must not show up in
// `epmd -names` or start an EPMD server of its own. With a distribution
// port (Dist.Port) it asks no EPMD: every peer listens on that port.
type dialOnlyRegistrar struct {
	ergonode.Registrar
	dist Dist
}

func newDialOnlyRegistrar(d Dist) dialOnlyRegistrar {
	return dialOnlyRegistrar{Registrar: dist.CreateRegistrar(), dist: d}
}

// Register does nothing: see the type's comment.
func (dialOnlyRegistrar) Register(context.Context, string, ergonode.RegisterOptions) error {
	return nil
}

// Resolve asks the EPMD on the peer's host for its port, with a timeout
// (ergo's own look-up has none) and on the port ERL_EPMD_PORT names, as
// Erlang does; with a distribution port, that port.
func (r dialOnlyRegistrar) Resolve(peer string) (ergonode.Route, error) {
	n, err := ParseName(peer)
	if err != nil {
		return ergonode.Route{}, err
	}
	if r.dist.Port > 0 {
		return ergonode.Route{Node: n.Alive, Host: n.Host, Port: uint16(r.dist.Port)}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	port, lerr := epmdLookup(ctx, n.Host, n.Alive)
	if lerr != nil {
		return ergonode.Route{}, lerr
	}
	return ergonode.Route{Node: n.Alive, Host: n.Host, Port: uint16(port)}, nil
}
