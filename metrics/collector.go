package metrics

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/mim-metrics/mim-metrics/etf"
	"github.com/mim-metrics/mim-metrics/node"
)

// Caller is what the collector needs from package node: evaluate Erlang
// on a node (expressions src, which may call the functions of the module
// sources files), and list the cluster's members (node.Cluster.Membership).
type Caller interface {
	EvalProgram(ctx context.Context, node string, files []string, src string, vars map[string]any) (etf.Term, error)
	Membership(ctx context.Context) (node.Membership, error)
}

// ErrNoClusterID: no member has a MongooseIM Cluster ID.
var ErrNoClusterID = errors.New("the cluster has no Cluster ID")

// Collector gathers the reports of every cluster member. It keeps each
// node's previous stanza totals for the increments, and the last Cluster ID
// a node gave.
type Collector struct {
	caller Caller
	log    *zap.Logger
	// FieldTimeout bounds each metric's calls inside the node.
	FieldTimeout time.Duration

	mu      sync.Mutex
	flights map[string]*flight    // per node, the collection in progress
	flavors map[string]nodeFlavor // per node, from its first probe
	peers   map[string]node.Peers // per node, the members its last gather answered
	prev    map[string]StanzaTotals
	members map[string]bool // the members of the last collection
	down    map[string]bool // those of them that were down (see node.Membership)

	clusterID       string // the last one a gather answered
	clusterIDFailed bool   // a gather could not read it (and none gave it)
	answered        bool   // a node answered in the last collection
}

// NewCollector returns a collector that talks through caller.
func NewCollector(caller Caller, log *zap.Logger) *Collector {
	if log == nil {
		log = zap.NewNop()
	}
	return &Collector{caller: caller, log: log, FieldTimeout: 5 * time.Second,
		flights: map[string]*flight{}, flavors: map[string]nodeFlavor{}, peers: map[string]node.Peers{}, prev: map[string]StanzaTotals{},
		members: map[string]bool{}, down: map[string]bool{}}
}

// Collect discovers the members and collects every one in parallel: one
// NodeReport per member, in name order. A node that fails has its Err set;
// the error is non-nil only when no member could be listed at all.
//
// The members of the last collection are collected at once, not after
// listing the members: a cluster rarely changes between two reports. When
// the caller discovers the members from seeds (see Discoverer), the
// seeds' gathers also answer the list (their nodes()), so that listing
// costs no round trip of its own after the first collection; otherwise
// the members are listed while the last ones are collected. A new member
// is collected as soon as the list names it; a member that left is
// collected for nothing, once, and left out.
//
// A member that the cluster records but no seed is connected to is down
// (see node.Membership): it is reported with Down set and a
// *node.NotRunningError, without calling it (a seed is still called, and
// is down when that fails), until it runs again or leaves the record.
func (c *Collector) Collect(ctx context.Context) ([]NodeReport, error) {
	started := map[string]chan NodeReport{}
	start := func(n string) {
		if _, ok := started[n]; ok {
			return
		}
		ch := make(chan NodeReport, 1) // the collection never blocks on it
		started[n] = ch
		go func() { ch <- c.collectShared(ctx, n) }()
	}
	c.mu.Lock()
	c.clusterIDFailed = false
	collectedBefore := len(c.members) > 0
	last := make([]string, 0, len(c.members))
	for n := range c.members {
		if !c.down[n] {
			last = append(last, n)
		}
	}
	c.mu.Unlock()
	for _, n := range last {
		start(n)
	}
	var ms node.Membership
	var err error
	seeds := map[string]bool{} // called even when down
	d, discoverer := c.caller.(Discoverer)
	if discoverer {
		for _, s := range d.Seeds() {
			seeds[s] = true
		}
	}
	if discoverer && d.Discovers() && collectedBefore {
		ms, err = c.membersFromSeeds(d.Seeds(), start, started)
	} else {
		ms, err = c.caller.Membership(ctx)
	}
	members := ms.Members
	if len(members) == 0 {
		if err == nil {
			err = errors.New("no cluster members")
		}
		return nil, fmt.Errorf("list cluster members: %w", err)
	}
	// With no seed answering (err != nil), the members are the seeds; their
	// reports say why each failed.
	for _, n := range members {
		if _, down := ms.RecordedBy(n); !down || seeds[n] {
			start(n)
		}
	}
	reports := make([]NodeReport, len(members))
	down := map[string]bool{}
	for i, n := range members {
		by, recorded := ms.RecordedBy(n)
		ch, called := started[n]
		if !called {
			reports[i] = NodeReport{Node: n, Down: true, Err: &node.NotRunningError{Node: n, RecordedBy: by}}
			down[n] = true
			continue
		}
		r := <-ch
		ch <- r // a seed's report may be read twice
		if recorded && r.Err != nil {
			r.Down, r.Err = true, &node.NotRunningError{Node: n, RecordedBy: by, Cause: r.Err}
			down[n] = true
		}
		reports[i] = r
	}
	c.forgetDeparted(members, down)
	c.noteAnswered(reports)
	return reports, nil
}

// Discoverer is what a Caller that discovers the members from seeds (as
// Members does with discovery on) tells the collector, so that the seeds'
// gathers list the members (see Collect).
type Discoverer interface {
	// Seeds are the nodes the members are discovered from.
	Seeds() []string
	// Discovers is true when the members are the seeds and every node a
	// seed is connected to (nodes() on the seed).
	Discovers() bool
}

// membersFromSeeds is Membership made of the seeds' gathers: the seeds
// and the members their gathers listed (see node.MembershipOf).
func (c *Collector) membersFromSeeds(seeds []string, start func(string), started map[string]chan NodeReport) (node.Membership, error) {
	for _, s := range seeds {
		start(s)
	}
	return node.MembershipOf(seeds, func(s string) (node.Peers, error) {
		r := <-started[s]
		started[s] <- r
		if r.Err != nil {
			return node.Peers{}, r.Err
		}
		c.mu.Lock()
		peers, ok := c.peers[s]
		c.mu.Unlock()
		if !ok {
			return node.Peers{}, fmt.Errorf("%s did not list its peers", s)
		}
		return peers, nil
	})
}

// flight is a collection (of one node, or of the Cluster ID) in progress.
type flight struct {
	done chan struct{}
	v    any
	err  error
}

// flightGrace is how much longer than FieldTimeout a collection may
// outlive the cycle that started it.
const flightGrace = 5 * time.Second

// shared runs fn under key, or joins its run still in progress. A run
// outlives a cycle that ends before it (a schedule cancels a cycle at its
// next tick), up to the cycle's deadline or FieldTimeout plus a grace,
// whichever is later; the next cycle joins it and takes its result. So a
// node never has more than one of our collections running, and a cycle
// cut short leaves no work behind for the next ones to pile on: a cluster
// that is slower than the period is collected every other cycle, instead
// of never while the abandoned calls load it.
func (c *Collector) shared(ctx context.Context, key string, fn func(context.Context) (any, error)) (any, error) {
	c.mu.Lock()
	f, running := c.flights[key]
	if !running {
		f = &flight{done: make(chan struct{})}
		c.flights[key] = f
	}
	c.mu.Unlock()
	if !running {
		fctx, cancel := c.flightContext(ctx)
		go func() {
			defer cancel()
			v, err := fn(fctx)
			c.mu.Lock()
			f.v, f.err = v, err
			delete(c.flights, key)
			c.mu.Unlock()
			close(f.done)
		}()
	}
	select {
	case <-f.done:
		if ctx.Err() == nil {
			return f.v, f.err
		}
	case <-ctx.Done():
	}
	return nil, &lateError{cause: ctx.Err()}
}

// lateError is a collection not finished when its cycle ended. It goes
// on, and the next cycle takes its result (see shared).
type lateError struct{ cause error }

func (e *lateError) Error() string {
	return "did not answer in time; --timeout sets the time limit"
}

// Unwrap lets errors.Is match the context's error.
func (e *lateError) Unwrap() error { return e.cause }

// collectShared is collectNode through shared, committing the stanza
// totals of the report it returns.
func (c *Collector) collectShared(ctx context.Context, node string) NodeReport {
	v, err := c.shared(ctx, "node "+node, func(ctx context.Context) (any, error) {
		r, totals := c.collectNode(ctx, node)
		return collected{r, totals}, nil
	})
	if err != nil {
		return NodeReport{Node: node, Err: onNode(node, err)}
	}
	got := v.(collected)
	c.commitTotals(node, got.totals)
	return got.report
}

// collected is a node's report with the stanza totals it counted from.
type collected struct {
	report NodeReport
	totals StanzaTotals
}

// flightContext bounds a run of shared. Without a deadline, the run ends
// with ctx.
func (c *Collector) flightContext(ctx context.Context) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	if least := time.Now().Add(c.FieldTimeout + flightGrace); dl.Before(least) {
		dl = least
	}
	return context.WithDeadline(context.WithoutCancel(ctx), dl)
}

// forgetDeparted drops the state of nodes that left the cluster, so the
// collector's memory follows the cluster's size, and keeps the members
// and those of them that are down.
func (c *Collector) forgetDeparted(members []string, down map[string]bool) {
	now := map[string]bool{}
	for _, m := range members {
		now[m] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for n := range c.prev {
		if !now[n] {
			delete(c.prev, n)
		}
	}
	for n := range c.flavors {
		if !now[n] {
			delete(c.flavors, n)
		}
	}
	for n := range c.peers {
		if !now[n] {
			delete(c.peers, n)
		}
	}
	c.members = now
	c.down = down
}

// commitTotals keeps a node's stanza totals of a report that is used, for
// the increments of its next one. A report nobody takes (its cycle ended
// before it came) leaves the old totals: the next report's increments then
// cover both periods, and no stanza goes unreported.
func (c *Collector) commitTotals(node string, totals StanzaTotals) {
	if totals == nil {
		return
	}
	c.mu.Lock()
	c.prev[node] = totals
	c.mu.Unlock()
}

// collectNode collects one node in one round trip: one evaluation that
// gathers every metric. The first collection of a node probes it before
// (one more round trip) to pick the Flavor, which is then kept; a gather
// built for a version the node no longer runs answers the probe instead,
// and is redone at once with the new flavor. So a node never costs more
// than two round trips.
//
// The stanza totals the report counted from are returned, not kept: the
// caller commits them when the report is used (see commitTotals).
func (c *Collector) collectNode(ctx context.Context, node string) (NodeReport, StanzaTotals) {
	r := NodeReport{Node: node}
	c.mu.Lock()
	nf, known := c.flavors[node]
	c.mu.Unlock()
	f := nf.flavor
	if !known {
		var err error
		if f, err = Probe(ctx, c.caller, node); err != nil {
			r.Err = onNode(node, err)
			return r, nil
		}
	}
	ans, err := c.gather(ctx, node, f)
	if err == nil && known {
		if probe, stale := staleAnswer(ans); stale {
			// The node changed since it was probed: gather again once.
			if f, err = flavorFromProbe(probe); err != nil {
				c.forgetFlavor(node)
				r.Err = onNode(node, err)
				return r, nil
			}
			ans, err = c.gather(ctx, node, f)
		}
	}
	if err != nil {
		c.forgetFlavor(node)
		r.Err = onNode(node, err)
		return r, nil
	}
	if _, stale := staleAnswer(ans); stale {
		c.forgetFlavor(node)
		r.Err = fmt.Errorf("node %s changed its version while being collected", node)
		return r, nil
	}
	m, ok := ans.(etf.Map)
	if !ok {
		c.forgetFlavor(node)
		r.Err = fmt.Errorf("node %s: the gather answered %s, want a map", node, etf.FormatLimit(ans, 200))
		return r, nil
	}
	r.Server, r.Version, r.OTP = f.Server, f.Version, f.OTP
	var log *zap.Logger // made at the first warning: most reports have none
	warn := func(format string, args ...any) {
		if log == nil {
			log = c.log.With(zap.String("node", node), zap.String("flavor", f.String()))
		}
		log.Warn(fmt.Sprintf(format, args...))
	}
	fs := fields{m: m, warn: warn}
	r.BuiltinService = builtinService(fs, f)
	c.notePeers(node, fs)
	c.mu.Lock()
	prev := c.prev[node]
	c.flavors[node] = nodeFlavor{flavor: f}
	c.mu.Unlock()
	c.noteClusterID(fs)
	var totals StanzaTotals
	r.Events, totals = events(f, fs, prev)
	return r, totals
}

// gather evaluates the gather of a node of flavor f.
func (c *Collector) gather(ctx context.Context, node string, f Flavor) (etf.Term, error) {
	p := GatherProgram(f, c.FieldTimeout)
	return c.caller.EvalProgram(ctx, node, p.Files, p.Main, p.Vars)
}

// nodeFlavor is what the collector keeps of a node between collections.
type nodeFlavor struct {
	flavor Flavor
}

// staleAnswer recognises a gather's {stale, ProbeAnswer}.
func staleAnswer(t etf.Term) (etf.Term, bool) {
	tup, ok := t.(etf.Tuple)
	if ok && len(tup) == 2 && etf.IsAtom(tup[0], "stale") {
		return tup[1], true
	}
	return nil, false
}

// builtinService reads the gather's builtin_service field (the probe's
// answer when missing).
func builtinService(fs fields, f Flavor) bool {
	v, ok := fs.m.GetAtom("builtin_service")
	if !ok {
		return f.BuiltinService
	}
	tup, _ := v.(etf.Tuple)
	return len(tup) == 2 && etf.IsAtom(tup[0], "ok") && etf.IsAtom(tup[1], "true")
}

// forgetFlavor makes the next collection of node probe it again.
func (c *Collector) forgetFlavor(node string) {
	c.mu.Lock()
	delete(c.flavors, node)
	delete(c.peers, node)
	c.mu.Unlock()
}

// notePeers keeps the members a gather answered, for membersFromSeeds:
// the nodes() it is connected to (field nodes), and the members its
// records name (fields db_nodes and cets_nodes; when both fail, the
// record of its last gather stands). The node names stay local.
func (c *Collector) notePeers(n string, fs fields) {
	connected, ok := nodeNamesField(fs, "nodes")
	var recorded []string
	known := false
	for _, f := range []string{"db_nodes", "cets_nodes"} {
		if names, ok := nodeNamesField(fs, f); ok {
			recorded, known = append(recorded, names...), true
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !ok {
		delete(c.peers, n)
		return
	}
	if !known {
		recorded = c.peers[n].Recorded
	}
	c.peers[n] = node.Peers{Connected: connected, Recorded: recorded}
}

// nodeNamesField reads a field that is a list of node names; false when
// the field is missing or failed.
func nodeNamesField(fs fields, name string) ([]string, bool) {
	v, ok := fs.m.GetAtom(name)
	tup, _ := v.(etf.Tuple)
	if !ok || len(tup) != 2 || !etf.IsAtom(tup[0], "ok") {
		return nil, false
	}
	return node.NodeNames(tup[1])
}

// noteClusterID remembers the Cluster ID a node's gather answered
// (field cluster_id), or that the node has none.
func (c *Collector) noteClusterID(fs fields) {
	v, ok := fs.m.GetAtom("cluster_id")
	if !ok {
		return
	}
	// {ok, {ok, Id}} | {ok, {error, _}} (no ID) | {error, _} (the field
	// failed). Nodes without mongoose_cluster_id (before 3.6) are not
	// asked (see mongooseIMMetrics).
	outer, _ := v.(etf.Tuple)
	if len(outer) != 2 {
		return
	}
	inner, _ := outer[1].(etf.Tuple)
	switch {
	case etf.IsAtom(outer[0], "ok") && len(inner) == 2 && etf.IsAtom(inner[0], "ok"):
		if id, ok := etf.Text(inner[1]); ok && id != "" && len(id) <= 100 {
			c.mu.Lock()
			c.clusterID = id
			c.mu.Unlock()
		}
	case etf.IsAtom(outer[0], "ok"), len(inner) == 2 && etf.IsAtom(inner[1], "undef"):
	default:
		c.mu.Lock()
		c.clusterIDFailed = true
		c.mu.Unlock()
	}
}

// noteAnswered records whether any node of a collection answered, for
// ClusterID.
func (c *Collector) noteAnswered(reports []NodeReport) {
	answered := false
	for _, r := range reports {
		answered = answered || r.Err == nil
	}
	c.mu.Lock()
	c.answered = answered
	c.mu.Unlock()
}

// ClusterID returns the Cluster ID that the gathers of the members gave,
// in this collection or an earlier one; it costs no round trip, so ask it
// after Collect. ErrNoClusterID when the nodes that answered have none
// (ejabberd, MongooseIM before 3.6); another error when no node answered,
// or when reading the Cluster ID failed (the caller then keeps the last
// ID or skips the cycle: a new local ID would look like a new
// installation).
func (c *Collector) ClusterID(context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.clusterID != "":
		return c.clusterID, nil
	case c.clusterIDFailed:
		return "", errors.New("the nodes could not read their Cluster ID")
	case !c.answered:
		return "", errors.New("no node answered, so the Cluster ID is not known")
	}
	return "", ErrNoClusterID
}

// onNode says which node err is about, unless it says so already (the
// errors of package node start with "node <name>").
func onNode(node string, err error) error {
	var late *lateError
	if errors.Is(err, errNeitherServer) || errors.As(err, &late) {
		return fmt.Errorf("node %s %w", node, err)
	}
	if msg := err.Error(); strings.HasPrefix(msg, "node "+node+" ") || strings.HasPrefix(msg, "node "+node+":") {
		return err
	}
	return fmt.Errorf("node %s: %w", node, err)
}
