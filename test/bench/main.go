// Command bench measures a full collection of mim-metrics against Erlang
// fixture clusters (1, 100, 1,000 and 10,000 hosts; 1 and 3 nodes), next
// to the same gathering run as compiled Erlang code inside the node, and
// the resident memory of the real `mim-metrics run` binary over 1,000
// report cycles. It prints a Markdown table and exits 1 when a target (see
// targets.go) is missed.
//
// Run it from the module root (about 5 minutes on 2 cores):
//
//	go run ./test/bench
//
// Flags narrow it down, e.g. `go run ./test/bench -fixtures mim-6.2.1
// -sizes 1,10000 -memory=false`. See docs/performance.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mim-metrics/mim-metrics/etf"
	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/node"
	"github.com/mim-metrics/mim-metrics/test/bench/benchkit"
	"github.com/mim-metrics/mim-metrics/test/erltest"
)

func main() {
	os.Exit(run())
}

type options struct {
	fixtures     []string
	sizes        []int
	nodeCounts   []int
	reps         int
	memory       bool
	cycles       int
	period       time.Duration
	fieldTimeout time.Duration
	out          string
	cpuProfile   string
	schedulers   int
}

func parseFlags() (options, error) {
	var o options
	fixturesFlag := flag.String("fixtures", "mim-6.2.1,mim-6.6.0", "fixture generations (directories of test/fixtures), comma-separated")
	sizesFlag := flag.String("sizes", "1,100,1000,10000", "host counts, comma-separated")
	nodesFlag := flag.String("nodes", "1,3", "cluster sizes, comma-separated")
	flag.IntVar(&o.reps, "reps", 15, "timed collections per row of the largest size (after 2 warm-ups; smaller sizes take at least 31); the median is shown")
	flag.BoolVar(&o.memory, "memory", true, "also measure the resident memory of `mim-metrics run`")
	flag.IntVar(&o.cycles, "cycles", 1000, "report cycles of the memory run")
	flag.DurationVar(&o.period, "period", 10*time.Millisecond, "report period of the memory run")
	flag.DurationVar(&o.fieldTimeout, "field-timeout", 5*time.Second, "FieldTimeout of the gather")
	flag.StringVar(&o.out, "o", "", "also write the Markdown report to this file")
	flag.IntVar(&o.schedulers, "schedulers", -1, "schedulers per fixture node (+S); -1: the machine's cores shared out among the nodes of a size, at least 1; 0: the VM's default, one per core")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the collector (this process) to this file")
	flag.Parse()
	o.fixtures = splitList(*fixturesFlag)
	var err error
	if o.sizes, err = intList(*sizesFlag); err != nil {
		return o, fmt.Errorf("-sizes: %w", err)
	}
	if o.nodeCounts, err = intList(*nodesFlag); err != nil {
		return o, fmt.Errorf("-nodes: %w", err)
	}
	if o.reps < 1 {
		return o, errors.New("-reps must be at least 1")
	}
	return o, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func intList(s string) ([]int, error) {
	var out []int
	for _, p := range splitList(s) {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad number %q", p)
		}
		out = append(out, n)
	}
	sort.Ints(out)
	return out, nil
}

// logf prints progress on stderr.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

func run() int {
	o, err := parseFlags()
	if err != nil {
		logf("%v", err)
		return 2
	}
	// The collector runs on the cores mim-metrics gives itself.
	node.LimitProcs()
	if !erltest.Available() {
		logf("erl, erlc and epmd must be on PATH")
		return 2
	}
	root, err := benchkit.ModuleRoot()
	if err != nil {
		logf("%v", err)
		return 2
	}
	// Stop every process we started, also on ^C.
	defer erltest.Cleanup()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		logf("interrupted: stopping the nodes")
		erltest.Cleanup()
		os.Exit(130)
	}()
	if _, err := erltest.StartEPMD(); err != nil {
		logf("%v", err)
		return 1
	}
	build, err := mkdirTemp("mim-bench")
	if err != nil {
		logf("%v", err)
		return 1
	}
	defer os.RemoveAll(build)
	fx := &fixtures{root: filepath.Join(root, "test", "fixtures"), build: build, compiled: map[string]string{}}

	stopProfile, err := benchkit.StartCPUProfile(o.cpuProfile)
	if err != nil {
		logf("%v", err)
		return 2
	}
	defer stopProfile()
	run := benchkit.Start("go run ./test/bench")
	var rows []row
	for _, era := range o.fixtures {
		for _, hosts := range o.sizes {
			rs, err := measureSize(fx, era, hosts, o)
			if err != nil {
				logf("%s, %d hosts: %v", era, hosts, err)
				return 1
			}
			rows = append(rows, rs...)
		}
	}
	var mem *memResult
	if o.memory {
		m, err := measureMemory(fx, root, build, o)
		if err != nil {
			logf("memory: %v", err)
			return 1
		}
		mem = &m
	}
	report := renderReport(rows, mem, o, run)
	fmt.Print(report)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(report), 0o644); err != nil {
			logf("%v", err)
			return 1
		}
	}
	if missed := checkTargets(rows, mem); len(missed) > 0 {
		fmt.Fprintln(os.Stderr)
		for _, m := range missed {
			fmt.Fprintf(os.Stderr, "TARGET MISSED: %s\n", m)
		}
		return 1
	}
	fmt.Fprintln(os.Stderr, "all targets met")
	return 0
}

// row is one line of the table.
type row struct {
	era        string
	hosts      int
	nodes      int
	reps       int
	ours       time.Duration // median full collection
	oursMin    time.Duration
	first      time.Duration // the very first collection (parses the sources)
	baseline   time.Duration // median in-node compiled gather (slowest node)
	callsSeed  int64         // round trips to the seed per collection (steady state)
	callsMax   int64         // most round trips to any node in one collection, the first included
	callsFirst int64         // most round trips to any node in the first collection
	callsLater int64         // most round trips to any node in a later collection
	bytesSeed  int64         // answer bytes from the seed per collection
	bytesOther int64         // answer bytes from another node (3 nodes)
	events     int           // events in the seed's report
	parallel   int           // timed collections in which every node's gather was in flight at one moment
	cpu        cpuResult     // CPU per collection, back to back
}

func (r row) ratio() float64 { return float64(r.ours) / float64(r.baseline) }

// measureSize starts the largest cluster of one size once and measures
// every cluster size on it: first the seed alone (the other nodes not yet
// connected), then, after joining, the whole cluster from the seed.
func measureSize(fx *fixtures, era string, hosts int, o options) ([]row, error) {
	maxNodes := o.nodeCounts[len(o.nodeCounts)-1]
	t0 := time.Now()
	nodes, err := fx.startNodes(era, hosts, maxNodes, schedulersPerNode(maxNodes, o.schedulers))
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, n := range nodes {
			n.Stop()
		}
	}()
	logf("%s, %d hosts: %d nodes up in %s", era, hosts, len(nodes), time.Since(t0).Round(time.Millisecond))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// A separate hidden node sets up and runs the baseline, so that the
	// measured one counts only the collection's round trips.
	ctl, err := node.Start(ctx, node.Options{Seeds: []string{nodes[0].Name}, Cookie: nodes[0].Cookie})
	if err != nil {
		return nil, err
	}
	defer ctl.Close()
	progs, err := loadBaseline(ctx, ctl, nodes, o.fieldTimeout)
	if err != nil {
		return nil, err
	}
	var rows []row
	joined := 1
	for _, n := range o.nodeCounts {
		if n > joined {
			if err := join(ctx, ctl, nodes[:n]); err != nil {
				return nil, err
			}
			joined = n
		}
		r, err := measure(ctx, ctl, nodes[:n], progs[:n], era, hosts, o)
		if err != nil {
			return nil, fmt.Errorf("%d nodes: %w", n, err)
		}
		logf("%s, %d hosts, %d nodes: ours %s, in-node %s, ratio %.2f, %d round trips/node, %d bytes from the seed",
			era, hosts, n, ms(r.ours), ms(r.baseline), r.ratio(), r.callsMax, r.bytesSeed)
		rows = append(rows, r)
	}
	return rows, nil
}

// measure collects the cluster of nodes (discovery from the first) reps
// times with a fresh hidden node, alternating with the in-node baseline.
func measure(ctx context.Context, ctl *node.Cluster, nodes []*erltest.Node, progs []metrics.Program, era string, hosts int, o options) (row, error) {
	reps := o.reps
	if hosts < largestSize && reps < 31 {
		reps = 31 // cheap, and small times are noisy
	}
	r := row{era: era, hosts: hosts, nodes: len(nodes), reps: reps}
	seed := nodes[0].Name
	cl, err := node.Start(ctx, node.Options{Seeds: []string{seed}, Cookie: nodes[0].Cookie, Discover: true})
	if err != nil {
		return r, err
	}
	defer cl.Close()
	rec := &recorder{Cluster: cl}
	col := metrics.NewCollector(rec, nil)
	col.FieldTimeout = o.fieldTimeout

	collect := func(first bool) (time.Duration, []metrics.NodeReport, error) {
		before := map[string]node.Stats{}
		for _, n := range nodes {
			before[n.Name] = cl.Stats(n.Name)
		}
		rec.reset()
		start := time.Now()
		reports, err := col.Collect(ctx)
		d := time.Since(start)
		if !first && len(nodes) > 1 && rec.overlapped() {
			r.parallel++
		}
		if err != nil {
			return d, nil, err
		}
		if len(reports) != len(nodes) {
			return d, nil, fmt.Errorf("%d reports for %d nodes", len(reports), len(nodes))
		}
		for _, rep := range reports {
			if rep.Err != nil {
				return d, nil, rep.Err
			}
		}
		var callsMax int64
		for _, n := range nodes {
			s := cl.Stats(n.Name)
			calls, bytes := s.Calls-before[n.Name].Calls, s.BytesReceived-before[n.Name].BytesReceived
			if calls > callsMax {
				callsMax = calls
			}
			if n.Name == seed {
				r.callsSeed, r.bytesSeed = calls, bytes
			} else {
				r.bytesOther = bytes
			}
		}
		if callsMax > r.callsMax {
			r.callsMax = callsMax
		}
		if first {
			r.callsFirst = callsMax
		} else if callsMax > r.callsLater {
			r.callsLater = callsMax
		}
		for _, rep := range reports {
			if rep.Node == seed {
				r.events = len(rep.Events)
			}
		}
		return d, reports, nil
	}

	// The first collection connects and parses the sources; one more
	// warms up both sides.
	first, _, err := collect(true)
	if err != nil {
		return r, fmt.Errorf("first collection: %w", err)
	}
	r.first = first
	if _, _, err := collect(false); err != nil {
		return r, err
	}
	if _, err := baselineOnce(ctx, ctl, nodes, progs); err != nil {
		return r, fmt.Errorf("baseline: %w", err)
	}
	var ours, base []time.Duration
	r.parallel = 0 // count the timed collections only
	for i := 0; i < reps; i++ {
		b, err := baselineOnce(ctx, ctl, nodes, progs)
		if err != nil {
			return r, fmt.Errorf("baseline: %w", err)
		}
		base = append(base, b)
		d, _, err := collect(false)
		if err != nil {
			return r, err
		}
		ours = append(ours, d)
	}
	r.ours, r.oursMin, r.baseline = median(ours), minimum(ours), median(base)
	if r.cpu, err = measureCPU(ctx, ctl, col, nodes, r.ours); err != nil {
		return r, fmt.Errorf("cpu: %w", err)
	}
	runtime.GC()
	return r, nil
}

// recorder is the collector's Caller: the cluster, recording when each
// evaluation (a node's gather) starts and ends.
type recorder struct {
	*node.Cluster
	mu    sync.Mutex
	spans map[string][2]time.Time
}

func (r *recorder) reset() {
	r.mu.Lock()
	r.spans = map[string][2]time.Time{}
	r.mu.Unlock()
}

func (r *recorder) EvalProgram(ctx context.Context, n string, files []string, src string, vars map[string]any) (etf.Term, error) {
	start := time.Now()
	t, err := r.Cluster.EvalProgram(ctx, n, files, src, vars)
	r.mu.Lock()
	r.spans[n] = [2]time.Time{start, time.Now()}
	r.mu.Unlock()
	return t, err
}

// overlapped reports whether the last evaluations of all nodes were in
// flight together: the last one started before the first one ended.
func (r *recorder) overlapped() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	var lastStart, firstEnd time.Time
	for _, s := range r.spans {
		if lastStart.IsZero() || s[0].After(lastStart) {
			lastStart = s[0]
		}
		if firstEnd.IsZero() || s[1].Before(firstEnd) {
			firstEnd = s[1]
		}
	}
	return len(r.spans) > 1 && lastStart.Before(firstEnd)
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func minimum(ds []time.Duration) time.Duration {
	m := ds[0]
	for _, d := range ds {
		if d < m {
			m = d
		}
	}
	return m
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

var _ = io.Discard
