package metrics

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/mim-metrics/mim-metrics/etf"
)

// Caller is what the collector needs from package node: evaluate Erlang
// source on a node, and list the cluster's members.
type Caller interface {
	Eval(ctx context.Context, node, src string, vars map[string]any) (etf.Term, error)
	Members(ctx context.Context) ([]string, error)
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

	mu        sync.Mutex
	prev      map[string]StanzaTotals
	clusterID string
	members   map[string]bool
}

// NewCollector returns a collector that talks through caller.
func NewCollector(caller Caller, log *zap.Logger) *Collector {
	if log == nil {
		log = zap.NewNop()
	}
	return &Collector{caller: caller, log: log, FieldTimeout: 5 * time.Second,
		prev: map[string]StanzaTotals{}, members: map[string]bool{}}
}

// Collect discovers the members and collects every one in parallel: one
// NodeReport per member, in name order. A node that fails has its Err set;
// the error is non-nil only when no member could be listed at all.
func (c *Collector) Collect(ctx context.Context) ([]NodeReport, error) {
	members, err := c.caller.Members(ctx)
	if len(members) == 0 {
		if err == nil {
			err = errors.New("no cluster members")
		}
		return nil, fmt.Errorf("list cluster members: %w", err)
	}
	if err != nil {
		c.log.Warn("no seed node answered; reporting the seeds only", zap.Error(err))
	}
	reports := make([]NodeReport, len(members))
	var wg sync.WaitGroup
	for i, n := range members {
		wg.Add(1)
		go func(i int, n string) {
			defer wg.Done()
			reports[i] = c.CollectNode(ctx, n)
		}(i, n)
	}
	wg.Wait()
	c.forgetDeparted(members)
	return reports, nil
}

// forgetDeparted drops the state of nodes that left the cluster, so the
// collector's memory follows the cluster's size.
func (c *Collector) forgetDeparted(members []string) {
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
	c.members = now
}

// CollectNode collects one node in two round trips: a probe that picks the
// Flavor, then one evaluation that gathers every metric.
func (c *Collector) CollectNode(ctx context.Context, node string) NodeReport {
	r := NodeReport{Node: node}
	f, err := Probe(ctx, c.caller, node)
	if err != nil {
		r.Err = fmt.Errorf("probe %s: %w", node, err)
		return r
	}
	r.Server, r.Version, r.BuiltinService = f.Server, f.Version, f.BuiltinService
	log := c.log.With(zap.String("node", node), zap.String("flavor", f.String()))
	warn := func(format string, args ...any) { log.Warn(fmt.Sprintf(format, args...)) }

	src := GatherSource(f)
	vars := map[string]any{"FieldTimeout": int(c.FieldTimeout / time.Millisecond)}
	ans, err := c.caller.Eval(ctx, node, src, vars)
	if err != nil {
		r.Err = fmt.Errorf("gather %s: %w", node, err)
		return r
	}
	m, ok := ans.(etf.Map)
	if !ok {
		r.Err = fmt.Errorf("gather %s: answer is %s, want a map", node, etf.FormatLimit(ans, 200))
		return r
	}
	fs := fields{m: m, warn: warn}
	c.mu.Lock()
	prev := c.prev[node]
	c.mu.Unlock()
	var totals StanzaTotals
	if f.Server == Ejabberd {
		r.Events = ejabberdEvents(f, fs)
	} else {
		r.Events, totals = mimEvents(f, fs, prev)
		c.noteClusterID(fs)
	}
	if totals != nil {
		c.mu.Lock()
		c.prev[node] = totals
		c.mu.Unlock()
	}
	return r
}

// noteClusterID remembers the Cluster ID a node answered.
func (c *Collector) noteClusterID(fs fields) {
	v, ok := fs.m.GetAtom("cluster_id")
	if !ok {
		return
	}
	// {ok, {ok, Id}} | {ok, {error, _}} | {error, _}
	outer, _ := v.(etf.Tuple)
	if len(outer) != 2 || !etf.IsAtom(outer[0], "ok") {
		return
	}
	inner, _ := outer[1].(etf.Tuple)
	if len(inner) != 2 || !etf.IsAtom(inner[0], "ok") {
		return
	}
	if id, ok := etf.Text(inner[1]); ok && id != "" && len(id) <= 100 {
		c.mu.Lock()
		c.clusterID = id
		c.mu.Unlock()
	}
}

// ClusterID returns the Cluster ID the members gave in the last
// collection, asking them now if none did yet (ErrNoClusterID when no
// member has one: ejabberd, MongooseIM before 3.6).
func (c *Collector) ClusterID(ctx context.Context) (string, error) {
	c.mu.Lock()
	id := c.clusterID
	c.mu.Unlock()
	if id != "" {
		return id, nil
	}
	members, err := c.caller.Members(ctx)
	if len(members) == 0 {
		return "", fmt.Errorf("cluster id: %w", err)
	}
	sort.Strings(members)
	for _, n := range members {
		t, err := c.caller.Eval(ctx, n, `case erlang:function_exported(mongoose_cluster_id, get_cached_cluster_id, 0) orelse element(1, code:ensure_loaded(mongoose_cluster_id)) =:= module of
    true -> mongoose_cluster_id:get_cached_cluster_id();
    false -> {error, no_cluster_id_module}
end.`, nil)
		if err != nil {
			continue
		}
		if tup, ok := t.(etf.Tuple); ok && len(tup) == 2 && etf.IsAtom(tup[0], "ok") {
			if s, ok := etf.Text(tup[1]); ok && s != "" {
				c.mu.Lock()
				c.clusterID = s
				c.mu.Unlock()
				return s, nil
			}
		}
	}
	return "", ErrNoClusterID
}
