package node

import (
	"fmt"
	"sync"

	ergoetf "github.com/ergo-services/ergo/etf"
	"github.com/ergo-services/ergo/gen"
)

// rpcResult is what a pending call receives: the reply term, or the reason
// the remote rex went away.
type rpcResult struct {
	reply    ergoetf.Term
	downWhy  string // set when the monitor fired instead of a reply
	isDown   bool
	received bool
}

// caller is the single ergo process through which all calls go. A call
// monitors the remote rex and sends it a gen_server call itself; the reply
// and the monitor's DOWN message both arrive in HandleInfo, so a node that
// dies fails its calls at once, and any number of calls can be in flight.
// The monitor reference doubles as the call's tag, as in OTP's gen:call.
type caller struct {
	gen.Server

	mu      sync.Mutex
	pending map[ergoetf.Ref]chan rpcResult
}

func newCaller() *caller {
	return &caller{pending: make(map[ergoetf.Ref]chan rpcResult)}
}

// HandleInfo routes rex replies and monitor DOWN messages to the waiting calls.
func (c *caller) HandleInfo(process *gen.ServerProcess, message ergoetf.Term) gen.ServerStatus {
	switch m := message.(type) {
	case gen.MessageDown:
		c.deliver(m.Ref, rpcResult{isDown: true, downWhy: m.Reason})
	case ergoetf.Tuple:
		if len(m) == 2 {
			if ref, ok := m[0].(ergoetf.Ref); ok {
				if c.deliver(ref, rpcResult{reply: m[1], received: true}) {
					process.DemonitorProcess(ref)
				}
			}
		}
	}
	return gen.ServerStatusOK
}

// deliver hands a result to the call waiting on ref, if any, and reports
// whether there was one.
func (c *caller) deliver(ref ergoetf.Ref, r rpcResult) bool {
	c.mu.Lock()
	ch, ok := c.pending[ref]
	delete(c.pending, ref)
	c.mu.Unlock()
	if ok {
		ch <- r // buffered: never blocks
	}
	return ok
}

// start monitors rex on the peer and sends it {call, M, F, A, user}; the
// group leader `user` keeps remote output on the remote side. It returns the
// tag and the channel the result arrives on.
func (c *caller) start(p gen.Process, peer string, mod, fun string, args ergoetf.List) (ergoetf.Ref, chan rpcResult, error) {
	rex := gen.ProcessID{Name: "rex", Node: peer}
	ch := make(chan rpcResult, 1)

	c.mu.Lock()
	ref := p.MonitorProcess(rex)
	c.pending[ref] = ch
	c.mu.Unlock()

	msg := ergoetf.Tuple{
		ergoetf.Atom("$gen_call"),
		ergoetf.Tuple{p.Self(), ref},
		ergoetf.Tuple{ergoetf.Atom("call"), ergoetf.Atom(mod), ergoetf.Atom(fun), args, ergoetf.Atom("user")},
	}
	if err := p.Send(rex, msg); err != nil {
		c.cancel(p, ref)
		return ref, nil, fmt.Errorf("send to rex on %s: %w", peer, err)
	}
	return ref, ch, nil
}

// cancel forgets a call whose caller stopped waiting.
func (c *caller) cancel(p gen.Process, ref ergoetf.Ref) {
	c.mu.Lock()
	delete(c.pending, ref)
	c.mu.Unlock()
	p.DemonitorProcess(ref)
}
