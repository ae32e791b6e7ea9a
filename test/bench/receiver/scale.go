package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

// retentionDays is the receiver's default retention of raw events.
const retentionDays = 90

// scaleResult is what the scale phase measured on one store.
type scaleResult struct {
	store    string
	clusters int
	// The year of roll-ups, loaded directly.
	rollupDays int
	rollupRows int64
	runs       int // cluster runs of the year
	rollupLoad time.Duration
	sizeEmpty  int64 // bytes: a fresh database
	sizeYear   int64 // bytes: after the year of roll-ups
	// Raw days at full scale, through AddBatch.
	rawDays    int
	rawEvents  int64
	rawBatches int64
	rawLoad    time.Duration
	alongside  int   // stores loading at the same time, this one included
	sizeRaw    int64 // bytes: after the raw days
	// RollUp of the last raw day: the first computation, then again (the
	// same rows replaced).
	rollupTimes []time.Duration
	dayRows     int // roll-up rows of that day afterwards
	lastDay     time.Time
	// differ lists where the generated rows of the last day differ from
	// what RollUp computed from its raw events (empty: the generated year
	// is what the store would have computed).
	differ []string
}

// rawPerDay is the measured size of one full day of raw events (bytes).
func (r scaleResult) rawPerDay() int64 {
	if r.rawDays == 0 {
		return 0
	}
	return (r.sizeRaw - r.sizeYear) / int64(r.rawDays)
}

// size90 extrapolates the database with 90 days of raw events.
func (r scaleResult) size90() int64 { return r.sizeYear + retentionDays*r.rawPerDay() }

// loadScale loads a year of roll-ups and o.rawDays days of raw events into
// a fresh database, measuring its size on the way; alongside is the
// number of stores loading at the same time. It returns the store, open.
func loadScale(ctx context.Context, w *world, srv *dbServer, kind string, alongside int, o options) (scaleResult, store.Store, error) {
	res := scaleResult{store: kind, clusters: len(w.clusters), rollupDays: yearDays, rawDays: o.rawDays, alongside: alongside}
	const name = "scale"
	st, err := srv.fresh(ctx, name)
	if err != nil {
		return res, nil, err
	}
	if res.sizeEmpty, err = srv.size(ctx, name); err != nil {
		return res, st, err
	}
	// The year ends yesterday: the dashboard's periods end today.
	last := store.Day(time.Now()).AddDate(0, 0, -1)
	res.lastDay = last

	logf("%s: scale: loading %d days of roll-ups for %d clusters", kind, yearDays, len(w.clusters))
	t0 := time.Now()
	for ago := yearDays - 1; ago >= 0; ago-- {
		rows := w.rollupRows(ago, last.AddDate(0, 0, -ago))
		if err := loadRollups(ctx, st, rows); err != nil {
			return res, st, fmt.Errorf("load the roll-ups of %s: %w", last.AddDate(0, 0, -ago).Format(time.DateOnly), err)
		}
		res.rollupRows += int64(len(rows))
	}
	runs := w.runs(last)
	for start := 0; start < len(runs); start += 10_000 {
		if err := store.LoadRuns(ctx, st, runs[start:min(start+10_000, len(runs))]); err != nil {
			return res, st, fmt.Errorf("load the cluster runs: %w", err)
		}
	}
	res.runs = len(runs)
	res.rollupLoad = time.Since(t0)
	if res.sizeYear, err = srv.size(ctx, name); err != nil {
		return res, st, err
	}
	logf("%s: scale: %d roll-up rows and %d cluster runs in %s, database %s", kind, res.rollupRows, res.runs, res.rollupLoad.Round(time.Millisecond), mb(res.sizeYear))

	t0 = time.Now()
	for ago := o.rawDays - 1; ago >= 0; ago-- {
		day := last.AddDate(0, 0, -ago)
		logf("%s: scale: loading the raw events of %s", kind, day.Format(time.DateOnly))
		ev, b, err := loadRawDay(ctx, w, st, ago, day, o.clients)
		res.rawEvents += ev
		res.rawBatches += b
		if err != nil {
			return res, st, fmt.Errorf("raw events of %s: %w", day.Format(time.DateOnly), err)
		}
	}
	res.rawLoad = time.Since(t0)
	if res.sizeRaw, err = srv.size(ctx, name); err != nil {
		return res, st, err
	}
	logf("%s: scale: %d raw events (%d batches) in %s (%.0f events/s), database %s", kind, res.rawEvents, res.rawBatches,
		res.rawLoad.Round(time.Millisecond), float64(res.rawEvents)/res.rawLoad.Seconds(), mb(res.sizeRaw))
	return res, st, nil
}

// timeRollUps times RollUp of the last loaded day three times (the first
// computation, then the same rows replaced) and compares its rows with the
// generated ones.
func timeRollUps(ctx context.Context, w *world, st store.Store, res *scaleResult) error {
	kind, last := res.store, res.lastDay
	for i := 0; i < 3; i++ {
		t0 := time.Now()
		if err := st.RollUp(ctx, last); err != nil {
			return fmt.Errorf("roll up %s: %w", last.Format(time.DateOnly), err)
		}
		res.rollupTimes = append(res.rollupTimes, time.Since(t0))
		logf("%s: scale: RollUp(%s) took %s", kind, last.Format(time.DateOnly), res.rollupTimes[i].Round(time.Millisecond))
	}
	rows, err := st.Rollups(ctx, store.RollupQuery{From: last, To: last})
	if err != nil {
		return fmt.Errorf("read the roll-ups back: %w", err)
	}
	res.dayRows = len(rows)
	res.differ = compareRollups(w.rollupRows(0, last), rows)
	if len(res.differ) > 0 {
		logf("%s: scale: the generated roll-ups differ from RollUp's: %s", kind, strings.Join(res.differ, "; "))
	}
	return nil
}

// compareRollups compares generated rows with computed ones (all
// versions), but for the new/returning split: the store saw every cluster
// first on the raw day, the generated year earlier. It returns the first
// few differences.
func compareRollups(generated, computed []store.RollupRow) []string {
	type key struct {
		kind     store.Kind
		dim, val string
	}
	type val struct{ clusters, sum int64 }
	index := func(rows []store.RollupRow) map[key]val {
		m := map[key]val{}
		for _, r := range rows {
			if r.Version == facts.AllVersions && r.Dimension != facts.Clusters {
				m[key{r.Kind, r.Dimension, r.Value}] = val{r.Clusters, r.Sum}
			}
		}
		return m
	}
	g, c := index(generated), index(computed)
	var out []string
	note := func(format string, args ...any) {
		if len(out) < 3 {
			out = append(out, fmt.Sprintf(format, args...))
		}
	}
	for k, gv := range g {
		if cv, ok := c[k]; !ok {
			note("%s %s=%s generated only", k.kind, k.dim, k.val)
		} else if cv != gv {
			note("%s %s=%s: generated %d clusters (sum %d), computed %d (sum %d)", k.kind, k.dim, k.val, gv.clusters, gv.sum, cv.clusters, cv.sum)
		}
	}
	for k := range c {
		if _, ok := g[k]; !ok {
			note("%s %s=%s computed only", k.kind, k.dim, k.val)
		}
	}
	return out
}

// loadRawDay stores every cycle of the day `ago` days before the last one
// of every cluster active that day, through AddBatch from senders
// goroutines: received times spread over the day, 3 hours apart per
// cluster.
func loadRawDay(ctx context.Context, w *world, st store.Store, ago int, day time.Time, senders int) (events, batches int64, err error) {
	type job struct {
		c     *cluster
		gen   int
		cycle int
		index int
	}
	jobs := make(chan job)
	var evN, bN atomic.Int64
	var once sync.Once
	var firstErr error
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				spread := 3 * time.Hour * time.Duration(j.index) / time.Duration(len(w.clusters))
				at := day.Add(time.Duration(j.cycle)*3*time.Hour + spread)
				for _, b := range w.batches(j.c, j.gen, int64(yearDays-ago)*cyclesPerDay+int64(j.cycle), at) {
					if _, err := st.AddBatch(ctx, b); err != nil {
						once.Do(func() { firstErr = err; cancel() })
						continue
					}
					bN.Add(1)
					evN.Add(int64(len(b.Events)))
				}
			}
		}()
	}
	n := 0
	progress := time.Now()
feed:
	for cycle := 0; cycle < cyclesPerDay; cycle++ {
		for i, c := range w.clusters {
			g, ok := c.activeOn(ago)
			if !ok {
				continue
			}
			select {
			case jobs <- job{c, g, cycle, i}:
			case <-ctx.Done():
				break feed
			}
			if n++; time.Since(progress) > 30*time.Second {
				progress = time.Now()
				logf("  %d cluster cycles, %d events", n, evN.Load())
			}
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return evN.Load(), bN.Load(), firstErr
}
