// Package observe is the operator's own view of the sidecar and of the
// cluster: Prometheus metrics (the sidecar's health and the cluster's
// inventory, node by node) and the /healthz and /readyz probes, served on
// --metrics-listen.
//
// Node names appear as labels (it is the operator's own endpoint); host,
// domain and user names never do, and no label grows with the hosts or
// users: module names come from the known modules of the report (custom
// modules are only counted), handler and transport names from the
// collector's fixed lists.
package observe

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mim-metrics/mim-metrics/inventory"
	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/reporting"
)

// namespace prefixes every metric name.
const namespace = "mim_metrics"

// Cycle outcomes (label outcome of mim_metrics_cycles_total).
const (
	// outcomeOK: every node collected, every destination accepted, the
	// report file written.
	outcomeOK = "ok"
	// outcomePartial: a report was made, but a node, a destination or the
	// report file failed.
	outcomePartial = "partial"
	// outcomeFailed: no report was made (no client id, no member listed,
	// no node collected).
	outcomeFailed = "failed"
)

// Reasons an event was dropped (label reason of
// mim_metrics_events_dropped_total).
const (
	// dropInvalid: the event breaks a Google Analytics rule; it is left
	// out of the whole report.
	dropInvalid = "invalid"
	// dropDestinationLimit: one destination's protocol could not carry it
	// (too large, not encodable); the others still got it.
	dropDestinationLimit = "destination_limit"
)

// Kinds of destination failure (label kind of
// mim_metrics_destination_failures_total).
const (
	failRejected    = "rejected"     // a 4xx answer: not retried
	failServerError = "server_error" // 5xx after every retry
	failNetwork     = "network"      // no answer: connection, time-out
	failBuild       = "build"        // the requests could not be built
)

// Options configures an Exporter.
type Options struct {
	// Version is the sidecar's version, for mim_metrics_build_info.
	Version string
	// RoundTrips returns the RPC round trips made to a node so far (rex
	// calls; node.Cluster.Stats). Nil: no round-trip metric.
	RoundTrips func(node string) int64
	// Now is the clock of the timestamps; default time.Now.
	Now func() time.Time
}

// Exporter keeps the metrics. Wire it with Source (around the reporting
// source) and ObserveCycle (reporting.Config.Observer), and serve Handler.
type Exporter struct {
	opts Options
	reg  *prometheus.Registry

	cycles          *prometheus.CounterVec
	lastCycle       prometheus.Gauge
	collectDuration prometheus.Histogram
	dropped         *prometheus.CounterVec
	destLastSuccess *prometheus.GaugeVec
	destFailures    *prometheus.CounterVec
	fileFailures    prometheus.Counter
	drift           *prometheus.GaugeVec

	mu     sync.Mutex
	nodes  []nodeState // the last collection
	ready  bool        // the last cycle collected at least one node
	cycled bool        // a cycle has ended
}

// New returns an Exporter with every metric registered.
func New(opts Options) *Exporter {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	e := &Exporter{opts: opts, reg: prometheus.NewRegistry()}
	e.cycles = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "cycles_total",
		Help: "Report cycles by outcome: ok (every node, destination and the report file), partial (a report was made but something failed), failed (no report).",
	}, []string{"outcome"})
	for _, o := range []string{outcomeOK, outcomePartial, outcomeFailed} {
		e.cycles.WithLabelValues(o)
	}
	e.lastCycle = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "last_cycle_timestamp_seconds",
		Help: "When the last report cycle ended (Unix time); 0 before the first.",
	})
	e.collectDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Name: "collection_duration_seconds",
		Help:    "Time to collect the whole cluster once (every member in parallel).",
		Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
	})
	e.dropped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "events_dropped_total",
		Help: "Events left out of reports: invalid (breaks a Google Analytics rule; left out for every destination), destination_limit (one destination could not carry it).",
	}, []string{"reason"})
	for _, r := range []string{dropInvalid, dropDestinationLimit} {
		e.dropped.WithLabelValues(r)
	}
	e.destLastSuccess = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "destination_last_success_timestamp_seconds",
		Help: "When each destination last accepted a report (Unix time).",
	}, []string{"destination"})
	e.destFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "destination_failures_total",
		Help: "Reports a destination did not accept, by kind: rejected (4xx), server_error (5xx after retries), network (no answer), build (requests could not be built).",
	}, []string{"destination", "kind"})
	e.fileFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "report_file_write_failures_total",
		Help: "Cycles whose report file could not be written.",
	})
	e.drift = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "cluster_drift",
		Help: "Differences between the collected nodes in the last report, by kind: version, module (on some nodes only), module_backend, transport, http_api. 0 when the nodes agree.",
	}, []string{"kind"})
	for _, k := range inventory.Kinds() {
		e.drift.WithLabelValues(string(k))
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "build_info",
		Help:        "The sidecar's version; always 1.",
		ConstLabels: prometheus.Labels{"version": opts.Version},
	})
	build.Set(1)
	e.reg.MustRegister(e.cycles, e.lastCycle, e.collectDuration, e.dropped, e.destLastSuccess, e.destFailures,
		e.fileFailures, e.drift, build, inventoryCollector{e})
	return e
}

// Registry is where the metrics are registered (for tests and extra
// collectors).
func (e *Exporter) Registry() *prometheus.Registry { return e.reg }

// Source wraps the reporting source: every collection is timed and kept
// for the inventory.
func (e *Exporter) Source(src reporting.Source) reporting.Source {
	return observedSource{src: src, e: e}
}

type observedSource struct {
	src reporting.Source
	e   *Exporter
}

func (s observedSource) Collect(ctx context.Context) ([]metrics.NodeReport, error) {
	start := time.Now()
	reports, err := s.src.Collect(ctx)
	s.e.collectDuration.Observe(time.Since(start).Seconds())
	// Only what the metrics show is kept, not the reports (a node with
	// thousands of hosts has thousands of events).
	nodes := make([]nodeState, len(reports))
	for i, r := range reports {
		nodes[i] = nodeState{name: r.Node, up: r.Err == nil}
		if r.Err == nil {
			nodes[i].inv = inventory.Of(r)
			nodes[i].builtin = r.BuiltinService
		}
	}
	s.e.mu.Lock()
	s.e.nodes = nodes // empty when no member could be listed
	s.e.mu.Unlock()
	return reports, err
}

func (s observedSource) ClusterID(ctx context.Context) (string, error) { return s.src.ClusterID(ctx) }

// ObserveCycle records what a cycle did; it is a reporting.CycleObserver.
func (e *Exporter) ObserveCycle(res reporting.Result, err error) {
	now := e.opts.Now()
	switch {
	case err != nil:
		e.cycles.WithLabelValues(outcomeFailed).Inc()
	case res.Collected < res.Nodes || !res.Accepted() || res.FileErr != nil:
		e.cycles.WithLabelValues(outcomePartial).Inc()
	default:
		e.cycles.WithLabelValues(outcomeOK).Inc()
	}
	e.lastCycle.Set(float64(now.UnixNano()) / 1e9)
	if err == nil && res.FileErr != nil {
		e.fileFailures.Inc()
	}
	if err == nil {
		// A cycle that made no report compared nothing: the last
		// comparison stands.
		counts := map[inventory.Kind]int{}
		for _, d := range res.Drift {
			counts[d.Kind]++
		}
		for _, k := range inventory.Kinds() {
			e.drift.WithLabelValues(string(k)).Set(float64(counts[k]))
		}
	}
	e.dropped.WithLabelValues(dropInvalid).Add(float64(len(res.Dropped)))
	for _, d := range res.Destinations {
		name := d.Destination.String()
		e.dropped.WithLabelValues(dropDestinationLimit).Add(float64(len(d.Dropped)))
		if d.OK() {
			e.destLastSuccess.WithLabelValues(name).Set(float64(now.UnixNano()) / 1e9)
			continue
		}
		// Every destination seen has both series, so a dashboard shows 0
		// rather than nothing.
		e.destLastSuccess.WithLabelValues(name)
		e.destFailures.WithLabelValues(name, failureKind(d)).Inc()
	}
	e.mu.Lock()
	e.ready = err == nil && res.Collected > 0
	e.cycled = true
	e.mu.Unlock()
}

// failureKind says why a destination did not accept a report.
func failureKind(d reporting.DestinationResult) string {
	switch {
	case d.Outcome == reporting.Rejected:
		return failRejected
	case d.Requests == 0:
		return failBuild
	case d.Status >= 500:
		return failServerError
	default:
		return failNetwork
	}
}

// Ready reports whether the last cycle collected at least one node, and
// why not.
func (e *Exporter) Ready() (bool, string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.ready:
		return true, "ready"
	case !e.cycled:
		return false, "no report cycle has ended yet (the first comes after --initial-report)"
	default:
		return false, "the last report cycle collected no node"
	}
}

// nodeState is what the metrics show of one node of the last collection.
type nodeState struct {
	name    string
	up      bool           // collected
	inv     inventory.Node // when up
	builtin bool           // MongooseIM's own service runs there
}

// lastNodes is the last collection.
func (e *Exporter) lastNodes() []nodeState {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.nodes
}
