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
// `epmd -names` or start an EPMD server of its own.
type dialOnlyRegistrar struct {
	ergonode.Registrar
}

func newDialOnlyRegistrar() dialOnlyRegistrar {
	return dialOnlyRegistrar{Registrar: dist.CreateRegistrar()}
}

// Register does nothing: see the type's comment.
func (dialOnlyRegistrar) Register(context.Context, string, ergonode.RegisterOptions) error {
	return nil
}

// Resolve asks the EPMD on the peer's host for its port, with a timeout
// (ergo's own look-up has none) and on the port ERL_EPMD_PORT names, as
// Erlang does.
func (dialOnlyRegistrar) Resolve(peer string) (ergonode.Route, error) {
	n, err := ParseName(peer)
	if err != nil {
		return ergonode.Route{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	port, lerr := epmdLookup(ctx, n.Host, n.Alive)
	if lerr != nil {
		return ergonode.Route{}, lerr
	}
	return ergonode.Route{Node: n.Alive, Host: n.Host, Port: uint16(port)}, nil
}
