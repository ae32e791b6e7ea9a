package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/reporting"
	"github.com/mim-metrics/mim-metrics/store"
	"github.com/mim-metrics/mim-metrics/test/erltest"
)

// The properties the simulated clusters report to; the receiver under
// test is configured with both.
const (
	prodProperty = "G-BENCHPROD"
	prodSecret   = "bench-prod-secret"
	ciProperty   = "G-BENCHCI"
	ciSecret     = "bench-ci-secret"
	// nodesPerCluster is the size of every simulated cluster.
	nodesPerCluster = 3
	// cyclesPerDay: a sidecar reports every 3 hours.
	cyclesPerDay = 8
)

// generation is one fixture generation's golden report (one node's events,
// test/fixtures/mim-*/expected.json), ordered oldest first.
type generation struct {
	era     string // directory name, e.g. "mim-6.2.1"
	version string // the cluster event's version
	events  []contract.Event
}

// loadGenerations reads every golden report under fixturesDir whose report
// has at least minEvents events (the oldest generations report only a
// handful, far from a real report's ~40).
func loadGenerations(fixturesDir string, minEvents int) ([]generation, error) {
	names, err := erltest.Generations()
	if err != nil {
		return nil, err
	}
	var gens []generation
	for _, name := range names {
		p := filepath.Join(fixturesDir, name, "expected.json")
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		events, err := decodeEvents(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		g := generation{era: filepath.Base(filepath.Dir(p)), events: events}
		for _, e := range events {
			if e.Name == contract.Cluster {
				g.version, _ = e.Params["version"].(string)
			}
		}
		if g.version == "" {
			return nil, fmt.Errorf("%s: no cluster event with a version", p)
		}
		if len(events) >= minEvents {
			gens = append(gens, g)
		}
	}
	sort.Slice(gens, func(i, j int) bool { return versionLess(gens[i].version, gens[j].version) })
	if len(gens) < 2 {
		return nil, fmt.Errorf("only %d golden reports with %d events or more under %s", len(gens), minEvents, fixturesDir)
	}
	return gens, nil
}

// numberParams lists, per event name, the params that are numbers.
var numberParams = func() map[string]map[string]bool {
	m := map[string]map[string]bool{}
	for _, s := range contract.Catalog() {
		m[s.Name] = map[string]bool{}
		for _, n := range s.Numbers {
			m[s.Name][n] = true
		}
	}
	return m
}()

// decodeEvents decodes a JSON array of events as the collector makes them:
// numeric params are int64, the others strings.
func decodeEvents(raw []byte) ([]contract.Event, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var events []contract.Event
	if err := dec.Decode(&events); err != nil {
		return nil, err
	}
	for _, e := range events {
		for k, v := range e.Params {
			if n, ok := v.(json.Number); ok {
				i, err := n.Int64()
				if err != nil || !numberParams[e.Name][k] {
					return nil, fmt.Errorf("event %s: param %s: unexpected number %s", e.Name, k, n)
				}
				e.Params[k] = i
			}
		}
	}
	return events, nil
}

func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if x != y {
			return x < y
		}
	}
	return len(pa) < len(pb)
}

// backends a module can be configured with: the simulated clusters pick
// among them, so that the backends-per-module rows vary.
var backends = map[string][]string{
	"mod_vcard":             {"mnesia", "rdbms", "ldap"},
	"mod_muc":               {"mnesia", "rdbms"},
	"mod_muc_light":         {"mnesia", "rdbms"},
	"mod_event_pusher_push": {"mnesia", "rdbms"},
	"mod_bosh":              {"mnesia", "cets"},
	"mod_offline":           {"mnesia", "rdbms"},
	"mod_last":              {"mnesia", "rdbms"},
	"mod_mam":               {"rdbms", "cassandra", "elasticsearch"},
	"mod_roster":            {"mnesia", "rdbms"},
	"mod_private":           {"mnesia", "rdbms"},
}

// extraModules may be added to a cluster's report (one event per host type,
// as MongooseIM sends them).
var extraModules = []string{"mod_offline", "mod_last", "mod_mam", "mod_roster", "mod_private"}

// countries the simulated clusters report from (the roll-ups' country
// dimension; the receiver itself has no GeoIP database in the benchmark).
var countries = []string{"DE", "US", "PL", "FR", "GB", "NL", "SE", "IN", "BR", "JP", "CN", "CA", "ES", "IT", "FI", "CZ"}

// cluster is one simulated MongooseIM cluster of three nodes.
type cluster struct {
	id       string // client id (a random UUID)
	property string
	secret   string
	kind     store.Kind
	addr     string // its source address (X-Forwarded-For, 198.18.0.0/15)
	country  string
	gen      int // index of the generation it runs (at ingest)
	// The year of roll-ups: the cluster first reports on firstDay (days
	// before the end of the year), upgrades to gen+1 on upgradeDay (0:
	// never) and reports with stanzaPerDay increments a day.
	firstDay     int
	upgradeDay   int
	stanzaPerDay int64
	profile      int // which variation (the roll-up generator groups by it)
}

// profiles is the number of distinct variations (module backends, host
// and domain counts, features) the clusters are drawn from.
const profiles = 96

// newClusters makes n clusters, deterministically from seed.
func newClusters(n int, gens []generation, seed uint64) []*cluster {
	rng := rand.New(rand.NewPCG(seed, 0x6d696d))
	cs := make([]*cluster, n)
	for i := range cs {
		c := &cluster{
			property: prodProperty, secret: prodSecret, kind: store.Production,
			addr:    fmt.Sprintf("198.%d.%d.%d", 18+i/65536%2, i/256%256, i%256),
			country: countries[rng.IntN(len(countries))],
			profile: rng.IntN(profiles),
		}
		var id [16]byte
		for j := range id {
			id[j] = byte(rng.Uint32())
		}
		id[6], id[8] = id[6]&0x0f|0x40, id[8]&0x3f|0x80
		c.id = fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:])
		if rng.IntN(10) == 0 {
			c.property, c.secret, c.kind = ciProperty, ciSecret, store.CI
		}
		// Newer generations are more common, as in real installations.
		c.gen = len(gens) - 1 - min(len(gens)-1, int(rng.ExpFloat64()*2.5))
		c.firstDay = rng.IntN(365)
		if rng.IntN(3) == 0 {
			c.firstDay = 364 // a third of the clusters report all year
		}
		if c.gen > 0 && rng.IntN(3) == 0 {
			// It ran the previous generation until some day of the year.
			c.upgradeDay = 1 + rng.IntN(364)
		}
		c.stanzaPerDay = int64(rng.ExpFloat64() * 50000)
		cs[i] = c
	}
	return cs
}

// world is the simulated installations: the generations they run and the
// clusters.
type world struct {
	gens     []generation
	clusters []*cluster

	mu         sync.Mutex
	variations map[[2]int][]contract.Event // by profile and generation
	factCache  map[[2]int][]facts.Fact
}

func newWorld(gens []generation, n int, seed uint64) *world {
	return &world{gens: gens, clusters: newClusters(n, gens, seed), variations: map[[2]int][]contract.Event{}, factCache: map[[2]int][]facts.Fact{}}
}

// events is one node's report of a profile's variation of generation g
// (shared: callers copy before changing it).
func (w *world) events(profile, g int) []contract.Event {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := [2]int{profile, g}
	if e, ok := w.variations[k]; ok {
		return e
	}
	e := variation(w.gens[g], uint64(profile)*0x9e3779b97f4a7c15+1)
	w.variations[k] = e
	return e
}

// report makes the three node reports of one cycle of cluster c running
// generation g. cycle varies the uptime and stanza totals.
func (w *world) report(c *cluster, g int, cycle int64) []metrics.NodeReport {
	gens := w.gens
	events := w.events(c.profile, g)
	reports := make([]metrics.NodeReport, nodesPerCluster)
	for n := range reports {
		evs := make([]contract.Event, len(events))
		for i, e := range events {
			p := make(map[string]any, len(e.Params))
			for k, v := range e.Params {
				p[k] = v
			}
			switch e.Name {
			case contract.Cluster:
				p["node_number"] = int64(nodesPerCluster)
				p["uptime"] = uptime(cycle)
			case contract.XMPPStanzaCount:
				inc := c.stanzaIncrement()
				p["increment"] = inc
				p["total"] = inc * (cycle + 1)
			}
			evs[i] = contract.Event{Name: e.Name, Params: p}
		}
		reports[n] = metrics.NodeReport{
			Node:   fmt.Sprintf("mongooseim@node%d", n+1),
			Server: metrics.MongooseIM, Version: gens[g].version, Events: evs,
		}
	}
	return reports
}

// uptime formats a node uptime of cycle report periods as the cluster event
// does (DDDD-HH:MM:SS).
func uptime(cycle int64) string {
	d := time.Duration(cycle%10000) * 3 * time.Hour
	h := int64(d.Hours())
	return fmt.Sprintf("%04d-%02d:00:00", h/24, h%24)
}

// variation is generation g's report as one profile configures it: module
// backends swapped, modules added, host and domain counts and the number
// of external components changed. The same seed always gives the same
// events.
func variation(g generation, seed uint64) []contract.Event {
	rng := rand.New(rand.NewPCG(seed, uint64(len(g.version))))
	hosts := int64(1 + rng.IntN(3))
	if rng.IntN(8) == 0 {
		hosts = int64(4 + rng.IntN(300))
	}
	var out []contract.Event
	for _, e := range g.events {
		p := make(map[string]any, len(e.Params))
		for k, v := range e.Params {
			p[k] = v
		}
		switch e.Name {
		case contract.HostCount:
			p["value"] = hosts
		case contract.DomainCount:
			p["value"] = hosts * int64(1+rng.IntN(4))
		case contract.CustomModuleCount:
			p["value"] = int64(rng.IntN(3) * rng.IntN(4))
		case contract.Cluster:
			p["component"] = int64(rng.IntN(2) * rng.IntN(8))
		case contract.ModuleWithOpt:
			m, _ := p["module"].(string)
			if _, has := p["backend"]; has {
				if bs := backends[m]; bs != nil && rng.IntN(2) == 0 {
					p["backend"] = bs[rng.IntN(len(bs))]
				}
			}
		}
		out = append(out, contract.Event{Name: e.Name, Params: p})
	}
	// A few more modules, on every host type, as long as the report stays
	// near 40 events.
	for _, m := range extraModules {
		if len(out)+3 > 44 || rng.IntN(2) == 0 {
			continue
		}
		b := backends[m][rng.IntN(len(backends[m]))]
		for i := 0; i < 3; i++ {
			out = append(out, contract.Event{Name: contract.ModuleWithOpt, Params: map[string]any{"module": m, "backend": b}})
		}
	}
	return out
}

// requests builds one cycle's requests of a cluster: the sidecar's GA4
// requests to its own receiver at endpoint (reporting.BuildRequests), each
// node's with its own timestamp_micros (at + the node's index in µs).
func (w *world) requests(c *cluster, g int, cycle int64, endpoint string, at time.Time) ([]reporting.Request, error) {
	dest := reporting.Destination{Protocol: reporting.GA4, ID: c.property, Secret: c.secret, Receiver: endpoint}
	reqs, dropped, err := reporting.BuildRequests(dest, "", c.id, at, w.report(c, g, cycle))
	if err != nil {
		return nil, err
	}
	if len(dropped) > 0 {
		return nil, fmt.Errorf("cluster %s: %d events dropped by the sidecar: %s", c.id, len(dropped), dropped[0].Reason)
	}
	return reqs, nil
}

// batches is the same cycle as store batches, as the receiver makes them
// from the requests: per node, runs of at most 25 events (GA4's limit per
// request, as BuildRequests cuts them), keyed as the receiver keys them.
func (w *world) batches(c *cluster, g int, cycle int64, at time.Time) []store.Batch {
	var out []store.Batch
	for n, r := range w.report(c, g, cycle) {
		report := fmt.Sprintf("%s/%d", c.id, at.UnixMicro()+int64(n))
		for i := 0; i < len(r.Events); i += contract.MaxGA4Events {
			out = append(out, store.Batch{
				Received: at, Property: c.property, Kind: c.kind, ClientID: c.id,
				ReportKey: report, DedupKey: fmt.Sprintf("%s/%d", report, i/contract.MaxGA4Events),
				Country: c.country, Counted: true,
				Events: r.Events[i:min(i+contract.MaxGA4Events, len(r.Events))],
			})
		}
	}
	return out
}

// stanzaIncrement is what each node adds to each stanza count per cycle.
func (c *cluster) stanzaIncrement() int64 {
	return c.stanzaPerDay / (cyclesPerDay * nodesPerCluster)
}

// check builds one cycle of the first clusters both ways and makes sure
// the requests and the batches carry the same events, cut the same way
// (the raw rate and the HTTP rate are of the same batches).
func (w *world) check() error {
	at := time.Now()
	for _, c := range w.clusters[:min(len(w.clusters), 20)] {
		reqs, err := w.requests(c, c.gen, 0, "http://127.0.0.1:1", at)
		if err != nil {
			return err
		}
		bs := w.batches(c, c.gen, 0, at)
		if len(reqs) != len(bs) {
			return fmt.Errorf("cluster %s: %d requests but %d batches", c.id, len(reqs), len(bs))
		}
		for i := range reqs {
			if reqs[i].Events != len(bs[i].Events) {
				return fmt.Errorf("cluster %s: request %d has %d events, batch %d", c.id, i, reqs[i].Events, len(bs[i].Events))
			}
		}
	}
	return nil
}

// eventsPerReport is the mean number of events in one node's report over
// the clusters (as they run at ingest).
func (w *world) eventsPerReport() float64 {
	n := 0
	for _, c := range w.clusters {
		n += len(w.events(c.profile, c.gen))
	}
	return float64(n) / float64(len(w.clusters))
}
