package metrics

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/etf"
	"github.com/mim-metrics/mim-metrics/node"
)

// The indexed shape (the gather's fast path) gives the events of the
// entries shape, with one params map per distinct configuration.
func TestModuleEventsIndexed(t *testing.T) {
	b := func(k, v string) etf.Tuple { return etf.Tuple{etf.Atom(k), etf.Atom(v)} }
	mnesia := etf.List{b("backend", "mnesia")}
	rdbms := etf.List{b("backend", "rdbms")}
	var warnings []string
	warn := func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) }
	// 3 hosts; mod_adhoc has no config_metrics/1; mod_vcard is mnesia,
	// rdbms, mnesia; mod_muc answers a domain (dropped, warned once).
	domain := etf.List{etf.Tuple{etf.Atom("host"), etf.Binary("muc.sentinel-7f3a.example")}}
	indexed := fields{warn: warn, m: etf.Map{{Key: etf.Atom("modules"), Value: ok(etf.Tuple{int64(3),
		atoms("mod_adhoc", "mod_muc", "mod_vcard"), atoms("mod_muc", "mod_vcard"),
		etf.List{mnesia, rdbms, domain},
		etf.String([]byte{2, 2, 2, 0, 1, 0})})}}}
	entries := fields{warn: func(string, ...any) {}, m: etf.Map{{Key: etf.Atom("modules"), Value: ok(etf.Tuple{int64(3), etf.List{
		etf.Tuple{etf.Atom("mod_adhoc"), etf.Atom("none")},
		etf.Tuple{etf.Atom("mod_muc"), etf.Tuple{etf.Atom("same"), domain}},
		etf.Tuple{etf.Atom("mod_vcard"), etf.Tuple{etf.Atom("all"), etf.List{mnesia, rdbms, mnesia}}},
	}})}}}
	got, want := moduleEvents(indexed), moduleEvents(entries)
	if fmt.Sprint(got) != fmt.Sprint(want) || len(got) != 6 {
		t.Errorf("indexed events\n got %v\nwant %v", got, want)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "mod_muc") {
		t.Errorf("want one warning for mod_muc's domain, got %q", warnings)
	}
	// Hosts with the same configuration share the params map.
	if fmt.Sprintf("%p", got[1].Params) != fmt.Sprintf("%p", got[5].Params) {
		t.Errorf("mod_vcard on hosts 1 and 3 do not share their params")
	}
	// Indexes out of range or of the wrong count: dropped, with a warning.
	for _, idx := range []etf.Term{etf.String([]byte{0, 9, 0, 0, 0, 0}), etf.String([]byte{0, 0})} {
		warnings = nil
		bad := fields{warn: warn, m: etf.Map{{Key: etf.Atom("modules"), Value: ok(etf.Tuple{int64(3),
			atoms("mod_muc", "mod_vcard"), atoms("mod_muc", "mod_vcard"), etf.List{mnesia}, idx})}}}
		if evs := moduleEvents(bad); len(evs) != 0 || len(warnings) != 1 {
			t.Errorf("malformed indexes %v: events %v, warnings %q", idx, evs, warnings)
		}
	}
}

// fakeCaller answers the probe and the gather like a MongooseIM node of a
// version, counting evaluations.
type fakeCaller struct {
	mu      sync.Mutex
	listed  int // calls of Members
	down    map[string]bool
	members []string // the running members, connected to each other
	// recorded, when set, are the members the seed a@h records (its
	// gather's db_nodes, and Membership's).
	recorded []string
	version  map[string]string // node -> MongooseIM version it runs
	evals    map[string]int
}

// requestVersion is the version a gather request (see gatherRequest)
// says the node was probed for.
func requestVersion(vars map[string]any) string {
	m, _ := vars["Request"].(etf.Map)
	v, _ := m.GetAtom("version")
	s, _ := v.(string)
	return s
}

func (f *fakeCaller) probe(node string) etf.Map {
	return etf.Map{
		{Key: etf.Atom("mongooseim"), Value: etf.String(f.version[node])},
		{Key: etf.Atom("ejabberd"), Value: etf.Atom("undefined")},
		{Key: etf.Atom("otp"), Value: etf.String("25")},
		{Key: etf.Atom("builtin_service"), Value: etf.Atom("false")},
		{Key: etf.Atom("features"), Value: etf.List{etf.Tuple{etf.Atom("mongoose_config"), etf.Atom("true")}}},
	}
}

func (f *fakeCaller) EvalProgram(_ context.Context, node string, _ []string, src string, vars map[string]any) (etf.Term, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.evals[node]++
	if f.down[node] {
		return nil, fmt.Errorf("%s is down", node)
	}
	if src == probeMain {
		return f.probe(node), nil
	}
	if !strings.Contains(src, ":gather(Request)") {
		return nil, fmt.Errorf("unexpected source %.60q", src)
	}
	if requestVersion(vars) != f.version[node] {
		return etf.Tuple{etf.Atom("stale"), f.probe(node)}, nil
	}
	var peers etf.List
	for _, m := range f.members {
		if m != node {
			peers = append(peers, etf.Atom(m))
		}
	}
	ans := etf.Map{
		{Key: etf.Atom("host_count"), Value: ok(int64(1))},
		{Key: etf.Atom("builtin_service"), Value: ok(etf.Atom("true"))},
		{Key: etf.Atom("nodes"), Value: ok(peers)},
		{Key: etf.Atom("cluster_id"), Value: ok(etf.Tuple{etf.Atom("ok"), etf.Binary("cid-" + f.version[node])})},
	}
	if f.recorded != nil {
		ans = append(ans, etf.MapPair{Key: etf.Atom("db_nodes"), Value: ok(atoms(f.recorded...))})
	}
	return ans, nil
}

func (f *fakeCaller) Membership(context.Context) (node.Membership, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listed++
	if f.recorded != nil {
		return node.MembershipOf([]string{"a@h"}, func(string) (node.Peers, error) {
			var connected []string
			for _, m := range f.members {
				if m != "a@h" {
					connected = append(connected, m)
				}
			}
			return node.Peers{Connected: connected, Recorded: f.recorded}, nil
		})
	}
	out := append([]string(nil), f.members...)
	sort.Strings(out)
	return node.Membership{Members: out}, nil
}

func (f *fakeCaller) takeEvals() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.evals
	f.evals = map[string]int{}
	return e
}

// A node costs two evaluations the first time (probe, gather), one later,
// and two again after it changed its version; the members of the last
// collection are collected while the members are listed, and one that
// left is not reported.
func TestCollectRoundTrips(t *testing.T) {
	f := &fakeCaller{members: []string{"a@h", "b@h"}, version: map[string]string{"a@h": "6.2.1", "b@h": "6.2.1", "c@h": "6.2.1"}, evals: map[string]int{}}
	c := NewCollector(f, nil)
	ctx := context.Background()
	collect := func() []NodeReport {
		t.Helper()
		reps, err := c.Collect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reps {
			if r.Err != nil {
				t.Fatalf("%s: %v", r.Node, r.Err)
			}
		}
		return reps
	}
	collect()
	if e := f.takeEvals(); e["a@h"] != 2 || e["b@h"] != 2 {
		t.Errorf("first collection: evaluations %v, want probe and gather per node", e)
	}
	reps := collect()
	if e := f.takeEvals(); e["a@h"] != 1 || e["b@h"] != 1 {
		t.Errorf("second collection: evaluations %v, want one gather per node", e)
	}
	if !reps[0].BuiltinService || reps[0].Version != "6.2.1" {
		t.Errorf("report %+v: want the gather's builtin_service and the probed version", reps[0])
	}
	f.mu.Lock()
	f.version["a@h"] = "6.3.0"
	f.members = []string{"a@h", "c@h"}
	f.mu.Unlock()
	reps = collect()
	e := f.takeEvals()
	if e["a@h"] != 2 || e["c@h"] != 2 || e["b@h"] > 2 {
		t.Errorf("after an upgrade of a and b leaving for c: evaluations %v, want 2 for a (stale gather, gather), 2 for c, at most 2 for b", e)
	}
	if len(reps) != 2 || reps[0].Node != "a@h" || reps[0].Version != "6.3.0" || reps[1].Node != "c@h" {
		t.Errorf("reports %+v: want a (6.3.0) and c", reps)
	}
	collect()
	// b's collection for nothing may still be running (probe and gather).
	if e := f.takeEvals(); e["a@h"] != 1 || e["c@h"] != 1 || e["b@h"] > 2 {
		t.Errorf("steady again: evaluations %v", e)
	}
}

// The Cluster ID comes from the gather: after a collection it costs no
// evaluation; a node whose gather gives none (ejabberd, MongooseIM before
// 3.6) means ErrNoClusterID.
func TestClusterIDFromTheGather(t *testing.T) {
	f := &fakeCaller{members: []string{"a@h"}, version: map[string]string{"a@h": "6.2.1"}, evals: map[string]int{}}
	c := NewCollector(f, nil)
	ctx := context.Background()
	if _, err := c.Collect(ctx); err != nil {
		t.Fatal(err)
	}
	f.takeEvals()
	if id, err := c.ClusterID(ctx); err != nil || id != "cid-6.2.1" {
		t.Fatalf("ClusterID = %q, %v", id, err)
	}
	if e := f.takeEvals(); len(e) != 0 {
		t.Errorf("ClusterID evaluated %v", e)
	}
	s := &stanzaCaller{count: 1}
	c = NewCollector(s, nil)
	if _, err := c.Collect(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ClusterID(ctx); !errors.Is(err, ErrNoClusterID) {
		t.Fatalf("ClusterID: %v, want ErrNoClusterID", err)
	}
}

// fakeDiscoverer discovers the members from the seed a@h.
type fakeDiscoverer struct{ *fakeCaller }

func (fakeDiscoverer) Seeds() []string { return []string{"a@h"} }
func (fakeDiscoverer) Discovers() bool { return true }

// With a Discoverer, the members are listed once; later the seed's gather
// lists them: one evaluation per node, the seed included.
func TestCollectMembersFromTheSeedsGather(t *testing.T) {
	f := &fakeCaller{members: []string{"a@h", "b@h"}, version: map[string]string{"a@h": "6.2.1", "b@h": "6.2.1", "c@h": "6.2.1"},
		evals: map[string]int{}, down: map[string]bool{}}
	c := NewCollector(fakeDiscoverer{f}, nil)
	ctx := context.Background()
	nodes := func() []string {
		t.Helper()
		reps, err := c.Collect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range reps {
			if r.Err != nil {
				out = append(out, r.Node+"!")
				continue
			}
			out = append(out, r.Node)
		}
		return out
	}
	if got := nodes(); fmt.Sprint(got) != "[a@h b@h]" || f.listed != 1 {
		t.Fatalf("first collection: %v, %d listings", got, f.listed)
	}
	f.takeEvals()
	if got := nodes(); fmt.Sprint(got) != "[a@h b@h]" || f.listed != 1 {
		t.Errorf("second collection: %v, %d listings, want no new listing", got, f.listed)
	}
	if e := f.takeEvals(); e["a@h"] != 1 || e["b@h"] != 1 {
		t.Errorf("second collection: evaluations %v, want one per node", e)
	}
	// c joins, b leaves: c is collected in the same collection.
	f.mu.Lock()
	f.members = []string{"a@h", "c@h"}
	f.mu.Unlock()
	if got := nodes(); fmt.Sprint(got) != "[a@h c@h]" {
		t.Errorf("after c joined and b left: %v", got)
	}
	if e := f.takeEvals(); e["a@h"] != 1 || e["c@h"] != 2 || e["b@h"] > 2 {
		t.Errorf("after c joined and b left: evaluations %v", e)
	}
	// The seed down: the seeds only, reported as failed.
	f.mu.Lock()
	f.down["a@h"] = true
	f.mu.Unlock()
	if got := nodes(); fmt.Sprint(got) != "[a@h!]" {
		t.Errorf("seed down: %v, want the seed only, failed", got)
	}
}

// A member the seed records but is not connected to is down: reported
// with Down and a NotRunningError, and not called, from the first
// collection on; when it runs again it is collected at once; when it
// leaves the record it is no longer reported.
func TestCollectDownMembers(t *testing.T) {
	f := &fakeCaller{members: []string{"a@h"}, recorded: []string{"a@h", "b@h"},
		version: map[string]string{"a@h": "6.2.1", "b@h": "6.2.1"}, evals: map[string]int{}, down: map[string]bool{"b@h": true}}
	c := NewCollector(fakeDiscoverer{f}, nil)
	ctx := context.Background()
	collect := func(what string, want string) {
		t.Helper()
		reps, err := c.Collect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range reps {
			switch {
			case r.Down:
				if !node.IsNotRunning(r.Err) || !strings.Contains(r.Err.Error(), r.Node+" is a member of the cluster but not running") {
					t.Errorf("%s: %s is down with error %v", what, r.Node, r.Err)
				}
				got = append(got, r.Node+"(down)")
			case r.Err != nil:
				got = append(got, r.Node+"!")
			default:
				got = append(got, r.Node)
			}
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%s: reports %v, want %s", what, got, want)
		}
	}
	for _, what := range []string{"down at the first collection", "still down"} {
		collect(what, "a@h b@h(down)")
		if e := f.takeEvals(); e["b@h"] != 0 {
			t.Errorf("%s: b@h was called %d times", what, e["b@h"])
		}
	}
	f.mu.Lock()
	f.members, f.down = []string{"a@h", "b@h"}, map[string]bool{}
	f.mu.Unlock()
	collect("back", "a@h b@h")
	collect("running", "a@h b@h")
	f.takeEvals()
	f.mu.Lock()
	f.members, f.down = []string{"a@h"}, map[string]bool{"b@h": true}
	f.mu.Unlock()
	// A member of the last collection is called at once, so it is called
	// (in vain) once.
	collect("down again", "a@h b@h(down)")
	if e := f.takeEvals(); e["b@h"] > 1 {
		t.Errorf("b@h, gone down, was called %d times", e["b@h"])
	}
	collect("still down", "a@h b@h(down)")
	f.mu.Lock()
	f.recorded = []string{"a@h"}
	f.mu.Unlock()
	collect("left the cluster", "a@h")
	if e := f.takeEvals(); e["b@h"] != 0 {
		t.Errorf("b@h, down or gone, was called %d times", e["b@h"])
	}
}

// stanzaCaller is one MongooseIM 6.2.1 node whose gather reports a message
// counter, and can be held until released.
type stanzaCaller struct {
	mu      sync.Mutex
	count   int64
	hold    chan struct{} // when set, gathers wait for it to close
	started chan struct{} // a held gather signals here when it starts
}

func (s *stanzaCaller) EvalProgram(_ context.Context, node string, _ []string, src string, _ map[string]any) (etf.Term, error) {
	if src == probeMain {
		return (&fakeCaller{version: map[string]string{node: "6.2.1"}}).probe(node), nil
	}
	s.mu.Lock()
	hold, started := s.hold, s.started
	s.mu.Unlock()
	if hold != nil {
		started <- struct{}{}
		<-hold
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return etf.Map{
		{Key: etf.Atom("host_count"), Value: ok(int64(1))},
		{Key: etf.Atom("stanzas"), Value: ok(etf.List{etf.Tuple{etf.Atom("xmppMessageSent"), s.count}})},
	}, nil
}

func (s *stanzaCaller) Membership(context.Context) (node.Membership, error) {
	return node.Membership{Members: []string{"a@h"}}, nil
}

func messageIncrement(t *testing.T, reps []NodeReport) any {
	t.Helper()
	if len(reps) != 1 || reps[0].Err != nil {
		t.Fatalf("reports %+v", reps)
	}
	for _, e := range reps[0].Events {
		if e.Name == contract.XMPPStanzaCount && e.Params["stanza_type"] == "xmppMessageSent" {
			return e.Params["increment"]
		}
	}
	t.Fatalf("no xmppMessageSent event in %+v", reps[0].Events)
	return nil
}

// A report that comes after its cycle ended is dropped, and so are the
// stanza totals it counted: the next report's increment covers both
// periods.
func TestDroppedReportKeepsStanzaTotals(t *testing.T) {
	s := &stanzaCaller{count: 10}
	c := NewCollector(s, nil)
	reps, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if inc := messageIncrement(t, reps); inc != int64(10) {
		t.Fatalf("first increment %v, want 10", inc)
	}

	// A cycle that ends while the gather is held.
	hold := make(chan struct{})
	s.mu.Lock()
	s.count, s.hold, s.started = 15, hold, make(chan struct{}, 1)
	s.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-s.started; cancel() }()
	reps, err = c.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 1 || reps[0].Err == nil {
		t.Fatalf("cut-short cycle: reports %+v, want an error", reps)
	}
	s.mu.Lock()
	s.hold = nil
	s.mu.Unlock()
	close(hold)
	// Wait until the held gather has finished, unclaimed.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		n := len(c.flights)
		c.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the held gather did not finish")
		}
		time.Sleep(5 * time.Millisecond)
	}

	s.mu.Lock()
	s.count = 20
	s.mu.Unlock()
	reps, err = c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if inc := messageIncrement(t, reps); inc != int64(10) {
		t.Errorf("increment after a dropped report %v, want 10 (20 - 10: the dropped report's 5 included)", inc)
	}
}
