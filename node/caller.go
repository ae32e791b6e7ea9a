package node

import (
	"fmt"
	"sync"

	ergoetf "github.com/ergo-services/ergo/etf"
	"github.com/ergo-services/ergo/gen"
)

// rpcResult is what a pending call receives: the reply term, or word that
// the connection to the peer went away.
type rpcResult struct {
	reply  ergoetf.Term
	isDown bool
}

// pendingCall is a call waiting for rex's reply.
type pendingCall struct {
	peer string
	ch   chan rpcResult
}

// caller is the single ergo process through which all calls go. A call
// sends the remote rex a gen_server call, tagged with a fresh reference;
// replies arrive in HandleInfo. The process monitors each peer it calls
// (one node monitor per peer, not one process monitor per call: that
// would cost two more messages per call), so a node that dies or
// is cut off fails its calls at once, and any number of calls can be in
// flight. (A peer whose rex is gone while the node still runs, which only
// happens as it shuts down, leaves its calls to their deadline.)
type caller struct {
	gen.Server

	mu        sync.Mutex
	pending   map[ergoetf.Ref]pendingCall
	monitored map[string]bool // peers with a node monitor
}

func newCaller() *caller {
	return &caller{pending: make(map[ergoetf.Ref]pendingCall), monitored: make(map[string]bool)}
}

// HandleInfo routes rex replies and node-down messages to the waiting calls.
func (c *caller) HandleInfo(process *gen.ServerProcess, message ergoetf.Term) gen.ServerStatus {
	switch m := message.(type) {
	case gen.MessageNodeDown:
		c.nodeDown(m.Name)
	case ergoetf.Tuple:
		if len(m) == 2 {
			if ref, ok := m[0].(ergoetf.Ref); ok {
				c.deliver(ref, rpcResult{reply: m[1]})
			}
		}
	}
	return gen.ServerStatusOK
}

// deliver hands a result to the call waiting on ref, if any.
func (c *caller) deliver(ref ergoetf.Ref, r rpcResult) {
	c.mu.Lock()
	pc, ok := c.pending[ref]
	delete(c.pending, ref)
	c.mu.Unlock()
	if ok {
		pc.ch <- r // buffered: never blocks
	}
}

// nodeDown fails every call waiting on peer; the next call monitors the
// peer again.
func (c *caller) nodeDown(peer string) {
	var failed []chan rpcResult
	c.mu.Lock()
	delete(c.monitored, peer)
	for ref, pc := range c.pending {
		if pc.peer == peer {
			failed = append(failed, pc.ch)
			delete(c.pending, ref)
		}
	}
	c.mu.Unlock()
	for _, ch := range failed {
		ch <- rpcResult{isDown: true}
	}
}

// start sends rex on the peer {call, M, F, A, user}, monitoring the peer
// first if no call has yet; the group leader `user` keeps remote output on
// the remote side. It returns the tag and the channel the result arrives
// on.
func (c *caller) start(p gen.Process, peer string, mod, fun string, args ergoetf.List) (ergoetf.Ref, chan rpcResult, error) {
	rex := gen.ProcessID{Name: "rex", Node: peer}
	ch := make(chan rpcResult, 1)
	ref := p.MakeRef()

	c.mu.Lock()
	if !c.monitored[peer] {
		p.MonitorNode(peer)
		c.monitored[peer] = true
	}
	c.pending[ref] = pendingCall{peer: peer, ch: ch}
	c.mu.Unlock()

	msg := ergoetf.Tuple{
		ergoetf.Atom("$gen_call"),
		ergoetf.Tuple{p.Self(), ref},
		ergoetf.Tuple{ergoetf.Atom("call"), ergoetf.Atom(mod), ergoetf.Atom(fun), args, ergoetf.Atom("user")},
	}
	if err := p.Send(rex, msg); err != nil {
		c.cancel(ref)
		return ref, nil, fmt.Errorf("send to rex on %s: %w", peer, err)
	}
	return ref, ch, nil
}

// cancel forgets a call whose caller stopped waiting.
func (c *caller) cancel(ref ergoetf.Ref) {
	c.mu.Lock()
	delete(c.pending, ref)
	c.mu.Unlock()
}
