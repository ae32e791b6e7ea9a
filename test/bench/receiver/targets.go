package main

import (
	"fmt"
	"net/http"
	"slices"
	"time"
)

// The targets of issues 13, 14 and 21, checked after every run: the
// benchmark exits 1 when one is missed.
const (
	// minRawShare: events/s over HTTP are at least this share of the same
	// store's raw AddBatch rate.
	minRawShare = 0.5
	// maxP99: the 99th percentile of the request latency over HTTP.
	maxP99 = 50 * time.Millisecond
	// maxRSS of the process at the end of an ingest run (100 MB, 10^6).
	maxRSS = 100_000_000
	// maxRollUp: computing one day's roll-ups of 10,000 clusters on SQLite.
	maxRollUp = 10 * time.Second
	// rollUpClusters is the scale maxRollUp applies to.
	rollUpClusters = 10000
	// maxPageP95 and maxAPIP95: the dashboard's server time, p95.
	maxPageP95 = 50 * time.Millisecond
	maxAPIP95  = 25 * time.Millisecond
	// maxYearBytes: a year of roll-ups and cluster runs of rollUpClusters
	// clusters (1 GB, 10^9).
	maxYearBytes = 1_000_000_000
)

// results is everything one run measured.
type results struct {
	opts      options
	events    float64 // events in one node's report, on average
	ingest    []ingestResult
	scale     []scaleResult
	dashboard []dashboardRow
	// adminList: /admin among o.adminClusters client ids; adminLoad the
	// time each store took to load them.
	adminList []dashboardRow
	adminLoad map[string]time.Duration
	failures  []string // a phase that could not run, and why
}

// raw is the raw AddBatch measurement of the same store.
func (r *results) raw(storeKind string) (ingestResult, bool) {
	for _, i := range r.ingest {
		if i.store == storeKind && i.mode == rawMode {
			return i, true
		}
	}
	return ingestResult{}, false
}

// checkTargets returns one line per missed target.
func checkTargets(r *results) []string {
	missed := append([]string(nil), r.failures...)
	for _, i := range r.ingest {
		name := fmt.Sprintf("ingest, %s, %s", i.store, i.mode.label())
		if i.errors > 0 {
			missed = append(missed, fmt.Sprintf("%s: %d errors (first: %s)", name, i.errors, first(i.errorMsg)))
		}
		if i.stored >= 0 && i.stored != i.events {
			missed = append(missed, fmt.Sprintf("%s: %d events acknowledged, %d stored", name, i.events, i.stored))
		}
		if i.rss > maxRSS {
			missed = append(missed, fmt.Sprintf("%s: %s resident, target ≤ %s", name, mb(i.rss), mb(maxRSS)))
		}
		if i.mode != httpMode {
			continue
		}
		if i.p99 > maxP99 {
			missed = append(missed, fmt.Sprintf("%s: p99 latency %s, target ≤ %s", name, ms(i.p99), ms(maxP99)))
		}
		if raw, ok := r.raw(i.store); ok && i.rate() < minRawShare*raw.rate() {
			missed = append(missed, fmt.Sprintf("%s: %.0f events/s, %.0f%% of the raw %.0f, target ≥ %.0f%%",
				name, i.rate(), 100*i.rate()/raw.rate(), raw.rate(), 100*minRawShare))
		}
	}
	for _, s := range r.scale {
		if s.clusters >= rollUpClusters && s.sizeYear > maxYearBytes {
			missed = append(missed, fmt.Sprintf("scale, %s: a year of roll-ups and runs of %d clusters is %s, target ≤ %s",
				s.store, s.clusters, mb(s.sizeYear), mb(maxYearBytes)))
		}
		if s.store == "sqlite" && s.clusters >= rollUpClusters && len(s.rollupTimes) > 0 && s.rollupTimes[0] > maxRollUp {
			missed = append(missed, fmt.Sprintf("scale, %s: one day's roll-ups of %d clusters took %s, target ≤ %s",
				s.store, s.clusters, s.rollupTimes[0].Round(time.Millisecond), maxRollUp))
		}
	}
	for _, d := range append(slices.Clone(r.dashboard), r.adminList...) {
		name := fmt.Sprintf("dashboard, %s, %s", d.store, d.call.path)
		if d.status != http.StatusOK {
			missed = append(missed, fmt.Sprintf("%s: status %d", name, d.status))
		}
		if limit := d.call.limit(); d.p95 > limit {
			missed = append(missed, fmt.Sprintf("%s: p95 %s, target ≤ %s", name, ms(d.p95), ms(limit)))
		}
	}
	return missed
}

// limit is the call's p95 target.
func (c dashboardCall) limit() time.Duration {
	if c.target > 0 {
		return c.target
	}
	if c.api {
		return maxAPIP95
	}
	return maxPageP95
}

func first(s []string) string {
	if len(s) == 0 {
		return "?"
	}
	return s[0]
}

// mb formats bytes in MB (10^6 bytes).
func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }
