// Command receiver benchmarks mim-metrics-receiver's parts on loopback:
//
//  1. Ingest: simulated clusters of three nodes send the sidecar's real
//     GA4 requests (reporting.BuildRequests over the golden reports of
//     test/fixtures) to the receiver's handler in an http.Server on
//     127.0.0.1, from concurrent clients, for -duration; next to it, the
//     same store's raw rate (Store.AddBatch called directly with the same
//     batches, in the same run).
//  2. Scale: a year of daily roll-ups for -clusters clusters reporting
//     every 3 hours, and -raw-days full days of raw events; the database
//     size, and the time to compute one day's roll-ups.
//  3. Dashboard: on that data set, the server time of every page and API
//     call of the dashboard's handler, and the bytes of each.
//
// For SQLite and for PostgreSQL (a server started by test/pgtest). It
// prints Markdown tables and exits 1 naming each missed target (see
// targets.go). Run it from the module root:
//
//	go run ./test/bench/receiver            # the full run (see docs/performance.md)
//	go run ./test/bench/receiver -quick     # a few minutes
//
// Flags narrow it down, e.g. `-stores sqlite -phases ingest -duration
// 20s`. See docs/performance.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mim-metrics/mim-metrics/store"
	"github.com/mim-metrics/mim-metrics/test/bench/benchkit"
)

func main() {
	os.Exit(run())
}

type options struct {
	stores     []string
	phases     []string
	duration   time.Duration
	clients    int
	clusters   int
	rawDays    int
	reps       int
	seed       uint64
	out        string
	cpuProfile string
	quick      bool
	keep       bool
	budget     time.Duration
	// adminClusters: the client ids of the admin phase.
	adminClusters int
}

var (
	knownStores = []string{"sqlite", "postgres"}
	knownPhases = []string{"ingest", "scale", "dashboard", "admin"}
)

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("receiver", flag.ContinueOnError)
	storesFlag := fs.String("stores", "sqlite,postgres", "stores to measure, comma-separated: sqlite, postgres")
	phasesFlag := fs.String("phases", "ingest,scale,dashboard,admin", "phases to run, comma-separated: ingest, scale, dashboard (dashboard needs scale), admin (/admin among -admin-clusters client ids)")
	fs.IntVar(&o.adminClusters, "admin-clusters", 1_000_000, "client ids of the admin phase (rows of the clusters table, loaded directly)")
	fs.DurationVar(&o.duration, "duration", 60*time.Second, "how long each ingest measurement (HTTP, then raw AddBatch) sends")
	fs.IntVar(&o.clients, "clients", 4, "concurrent senders (ingest, and loading the raw days)")
	fs.IntVar(&o.clusters, "clusters", 10000, "simulated clusters (3 nodes each, reporting every 3 hours)")
	fs.IntVar(&o.rawDays, "raw-days", 1, "full days of raw events loaded for the scale phase (the 90 days of retention are extrapolated from them); 0: none, the roll-ups alone (the dashboard's data set, no RollUp timing)")
	fs.IntVar(&o.reps, "reps", 30, "requests per dashboard page or API call (after one warm-up)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the simulated clusters")
	fs.StringVar(&o.out, "o", "", "also write the Markdown report to this file")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	fs.BoolVar(&o.keep, "keep", false, "keep the SQLite databases (the directory is printed) for a look afterwards")
	fs.DurationVar(&o.budget, "call-budget", 20*time.Second, "stop timing a dashboard call after this long (at least 5 requests)")
	fs.BoolVar(&o.quick, "quick", false, "a short run: -duration 10s -clusters 1000 -reps 10 -admin-clusters 100000 (unless given)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q (flags only; see -h)", fs.Arg(0))
	}
	if o.quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["duration"] {
			o.duration = 10 * time.Second
		}
		if !set["clusters"] {
			o.clusters = 1000
		}
		if !set["reps"] {
			o.reps = 10
		}
		if !set["admin-clusters"] {
			o.adminClusters = 100_000
		}
	}
	var err error
	if o.stores, err = choose("-stores", *storesFlag, knownStores); err != nil {
		return o, err
	}
	if o.phases, err = choose("-phases", *phasesFlag, knownPhases); err != nil {
		return o, err
	}
	if slices.Contains(o.phases, "dashboard") && !slices.Contains(o.phases, "scale") {
		return o, errors.New("-phases: dashboard runs on the scale phase's data set: add scale")
	}
	switch {
	case o.duration < time.Second:
		return o, errors.New("-duration must be at least 1s")
	case o.clients < 1 || o.clients > 1000:
		return o, errors.New("-clients must be between 1 and 1000")
	case o.clusters < 10 || o.clusters > 131072:
		return o, errors.New("-clusters must be between 10 and 131072 (one source address each, 198.18.0.0/15)")
	case o.rawDays < 0 || o.rawDays > 90:
		return o, errors.New("-raw-days must be between 0 and 90")
	case o.reps < 3:
		return o, errors.New("-reps must be at least 3")
	case o.adminClusters < 1000 || o.adminClusters > 10_000_000:
		return o, errors.New("-admin-clusters must be between 1000 and 10000000")
	}
	return o, nil
}

// choose splits a comma-separated list and checks every item is known.
func choose(flagName, s string, known []string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !slices.Contains(known, p) {
			return nil, fmt.Errorf("%s: unknown %q (known: %s)", flagName, p, strings.Join(known, ", "))
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: name at least one of %s", flagName, strings.Join(known, ", "))
	}
	return out, nil
}

// logf prints progress on stderr.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

func run() int {
	o, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		logf("%v", err)
		return 2
	}
	root, err := benchkit.ModuleRoot()
	if err != nil {
		logf("%v", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	stopProfile, err := benchkit.StartCPUProfile(o.cpuProfile)
	if err != nil {
		logf("%v", err)
		return 2
	}
	defer stopProfile()
	gens, err := loadGenerations(filepath.Join(root, "test", "fixtures"), 20)
	if err != nil {
		logf("%v", err)
		return 2
	}
	w := newWorld(gens, o.clusters, o.seed)
	if err := w.check(); err != nil {
		logf("the simulated clusters: %v", err)
		return 1
	}
	work, err := os.MkdirTemp("", "mim-bench-receiver-")
	if err != nil {
		logf("%v", err)
		return 1
	}
	if o.keep {
		logf("keeping the databases in %s", work)
	} else {
		defer os.RemoveAll(work)
	}

	run := benchkit.Start("go run ./test/bench/receiver")
	res := &results{opts: o, events: w.eventsPerReport()}
	measureAll(ctx, w, work, o, res)
	if ctx.Err() != nil {
		logf("interrupted")
		return 130
	}
	report := renderReport(res, run)
	fmt.Print(report)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(report), 0o644); err != nil {
			logf("%v", err)
			return 1
		}
	}
	missed := checkTargets(res)
	if len(missed) > 0 {
		fmt.Fprintln(os.Stderr)
		for _, m := range missed {
			fmt.Fprintf(os.Stderr, "TARGET MISSED: %s\n", m)
		}
		return 1
	}
	fmt.Fprintln(os.Stderr, "all targets met")
	return 0
}

// measureAll runs the chosen phases on every chosen store: ingest one
// store after the other; the scale phase's loading of every store at once
// (the raw days take most of a run; the rates are then of stores sharing
// the machine, and say so); then, one store after the other, the timed
// roll-ups and the dashboard. A phase that fails is a failure in the
// report; the others still run.
func measureAll(ctx context.Context, w *world, work string, o options, res *results) {
	fail := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		res.failures = append(res.failures, msg)
		logf("%s", msg)
	}
	var servers []*dbServer
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	for _, kind := range o.stores {
		srv, err := startServer(kind, work)
		if err != nil {
			fail("%s: %v", kind, err)
			continue
		}
		servers = append(servers, srv)
	}
	if slices.Contains(o.phases, "ingest") {
		for _, srv := range servers {
			for _, mode := range []ingestMode{rawMode, httpMode} {
				r, err := ingestOnce(ctx, w, srv, srv.kind, mode, o)
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					fail("%s: ingest (%s): %v", srv.kind, mode.label(), err)
					continue
				}
				res.ingest = append(res.ingest, r)
				runtime.GC()
			}
		}
	}
	if slices.Contains(o.phases, "admin") {
		res.adminLoad = map[string]time.Duration{}
		for _, srv := range servers {
			rows, took, err := measureAdminList(ctx, srv, o)
			if ctx.Err() != nil {
				return
			}
			res.adminList = append(res.adminList, rows...)
			res.adminLoad[srv.kind] = took
			if err != nil {
				fail("%s: admin: %v", srv.kind, err)
			}
			runtime.GC()
		}
	}
	if !slices.Contains(o.phases, "scale") {
		return
	}
	loaded := make([]scaleResult, len(servers))
	stores := make([]store.Store, len(servers))
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i, srv := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			loaded[i], stores[i], errs[i] = loadScale(ctx, w, srv, srv.kind, len(servers), o)
		}()
	}
	wg.Wait()
	defer func() {
		for _, st := range stores {
			if st != nil {
				st.Close()
			}
		}
	}()
	for i, srv := range servers {
		if ctx.Err() != nil {
			return
		}
		if errs[i] != nil {
			fail("%s: scale: %v", srv.kind, errs[i])
			continue
		}
		// With no raw day there is nothing for RollUp to compute.
		if o.rawDays > 0 {
			if err := timeRollUps(ctx, w, stores[i], &loaded[i]); err != nil {
				fail("%s: scale: %v", srv.kind, err)
				continue
			}
		}
		res.scale = append(res.scale, loaded[i])
		if slices.Contains(o.phases, "dashboard") {
			rows, err := measureDashboard(ctx, stores[i], srv.kind, w, o)
			res.dashboard = append(res.dashboard, rows...)
			if err != nil {
				fail("%s: dashboard: %v", srv.kind, err)
			}
		}
	}
}

// ingestOnce measures one ingest mode into a fresh database.
func ingestOnce(ctx context.Context, w *world, srv *dbServer, kind string, mode ingestMode, o options) (ingestResult, error) {
	st, err := srv.fresh(ctx, fmt.Sprintf("ingest_%s", mode))
	if err != nil {
		return ingestResult{}, err
	}
	r, err := measureIngest(ctx, w, st, kind, mode, o)
	if closeErr := st.Close(); err == nil && closeErr != nil {
		err = fmt.Errorf("close: %w", closeErr)
	}
	return r, err
}
