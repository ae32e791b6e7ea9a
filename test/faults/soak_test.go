package faults_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/reporting"
	"github.com/mim-metrics/mim-metrics/test/fakega"
)

// Soak parameters (case 7).
const (
	soakCycles       = 10_000
	soakShortCycles  = 1_500 // with -short
	soakPeriod       = 10 * time.Millisecond
	soakRestartEvery = 300 // cycles
	// ergo would phone home one minute after the node starts; the soak
	// lasts longer than that, so that it would see it.
	ergoPhoneHome = 61 * time.Second
)

// TestSoak (case 7) runs the soak in a child process, this test binary
// again, so that its goroutine, descriptor and heap figures are its own,
// not those of the tests running beside it in this process. The child's
// figures are logged here in a line starting "SOAK:".
func TestSoak(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	args := []string{"-test.run=^TestSoakChild$", "-test.v", "-test.timeout=7m"}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), soakChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	found := false
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if _, figures, ok := strings.Cut(sc.Text(), "SOAK:"); ok {
			t.Logf("SOAK:%s", figures)
			found = true
		}
	}
	if err != nil || !found || !strings.Contains(string(out), "--- PASS: TestSoakChild") {
		t.Errorf("soak failed (%v):\n%s", err, tail(string(out), 80))
	}
}

// dnsRecorder replaces this process's DNS: it records the name of every
// query and answers none. Nothing the sidecar does needs DNS (all names
// are localhost or loopback addresses); ergo's anonymous metrics would
// look up metrics.ergo.services.
type dnsRecorder struct {
	mu    sync.Mutex
	names []string
}

func (r *dnsRecorder) install() {
	net.DefaultResolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
		ours, theirs := net.Pipe()
		go func() {
			defer ours.Close()
			// A net.Pipe is not a PacketConn: the resolver speaks DNS over a
			// stream, each message after a 2-byte length.
			var n uint16
			if binary.Read(ours, binary.BigEndian, &n) != nil {
				return
			}
			msg := make([]byte, n)
			if _, err := io.ReadFull(ours, msg); err != nil {
				return
			}
			r.mu.Lock()
			r.names = append(r.names, dnsQuestion(msg))
			r.mu.Unlock()
		}()
		return theirs, nil
	}}
}

func (r *dnsRecorder) queries() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.names...)
}

// dnsQuestion returns the name in a DNS query's first question.
func dnsQuestion(msg []byte) string {
	if len(msg) < 12 {
		return "?"
	}
	var labels []string
	for i := 12; i < len(msg); {
		l := int(msg[i])
		if l == 0 || i+1+l > len(msg) {
			break
		}
		labels = append(labels, string(msg[i+1:i+1+l]))
		i += 1 + l
	}
	return strings.Join(labels, ".")
}

// soakSource counts cycles and the cycles in which a member was missing.
type soakSource struct {
	reporting.Source
	mu              sync.Mutex
	cycles, missing int
	down, cut       int // cycles in which a node was unreachable; cut short at the next tick
	lastComplete    bool
}

func (s *soakSource) Collect(ctx context.Context) ([]metrics.NodeReport, error) {
	s.mu.Lock()
	s.cycles++
	s.mu.Unlock()
	reports, err := s.Source.Collect(ctx)
	complete := err == nil && len(reports) == 3
	down, cut := err != nil || len(reports) < 3, false
	for _, r := range reports {
		complete = complete && r.Err == nil
		if r.Err != nil {
			if strings.Contains(r.Err.Error(), "did not answer in time; --timeout sets the time limit") { // the cycle ended first
				cut = true
			} else {
				down = true
			}
		}
	}
	s.mu.Lock()
	if !complete {
		s.missing++
	}
	if down {
		s.down++
	} else if cut {
		s.cut++
	}
	s.lastComplete = complete
	s.mu.Unlock()
	return reports, err
}

func (s *soakSource) state() (cycles, missing int, lastComplete bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cycles, s.missing, s.lastComplete
}

// sample is the process's resource use at one point of the soak.
type sample struct {
	cycle      int
	goroutines int
	fds        int
	heap       uint64
}

func (s sample) String() string {
	return fmt.Sprintf("cycle %d: %d goroutines, %d fds, heap %s", s.cycle, s.goroutines, s.fds, mb(s.heap))
}

// TestSoakChild (case 7) is the soak: `run` with a 10 ms period for
// 10,000 cycles against a three-node fixture cluster while one node (the
// seed every third time) is restarted every 300 cycles. Goroutines and
// file descriptors must come back to their level at cycle 500, the heap
// in use must not grow between cycles 1,000 and 10,000, no DNS query and
// no non-loopback socket may appear (ergo's anonymous metrics would do
// both after a minute), and the sidecar must stay out of nodes().
func TestSoakChild(t *testing.T) {
	if os.Getenv(soakChildEnv) != "1" {
		t.Skip("run by TestSoak in a child process")
	}
	total := soakCycles
	if testing.Short() {
		total = soakShortCycles
	}
	dns := &dnsRecorder{}
	dns.install()
	// Self-check: a lookup is seen.
	lctx, lcancel := context.WithTimeout(context.Background(), 2*time.Second)
	_, _ = net.DefaultResolver.LookupTXT(lctx, "selfcheck.example")
	lcancel()
	if q := dns.queries(); len(q) == 0 || !strings.Contains(strings.Join(q, " "), "selfcheck") {
		t.Fatalf("the DNS recorder does not see lookups: %v", q)
	}
	dns.mu.Lock()
	dns.names = nil
	dns.mu.Unlock()

	c := startCluster(t, "mim-6.4.0", 3)
	ga := fakega.New(t)
	counting := newCountingCore()
	src := &soakSource{}
	baseline := settle(0)
	started := time.Now()
	s := newSidecar(t, sidecarOptions{seeds: []string{c.nodes[0].Name}, cookie: c.cookie, discover: true,
		endpoint: ga.URL, tracking: []string{trackingID}, period: soakPeriod, timeout: 5 * time.Second,
		logger: zap.New(counting),
		source: func(inner reporting.Source) reporting.Source { src.Source = inner; return src }})
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- s.svc.Run(ctx) }()
	defer cancel()

	var samples []sample
	var goroutineDumps []string
	restarts, nextRestart, victim := 0, soakRestartEvery, 1
	wantSample := []int{500, 1000, total}
	deadline := time.Now().Add(6 * time.Minute)
	lastReport := time.Now()
	for len(wantSample) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the soak did not reach %d cycles in time: %v", wantSample[0], samples)
		}
		time.Sleep(5 * time.Millisecond)
		cycles, missingNow, complete := src.state()
		if time.Since(lastReport) > 20*time.Second {
			lastReport = time.Now()
			counting.st.mu.Lock()
			recent := strings.Join(counting.st.recent[max(0, len(counting.st.recent)-6):], "\n")
			counting.st.mu.Unlock()
			t.Logf("progress: %d cycles, %d missing, %d restarts, %d goroutines\n%s", cycles, missingNow, restarts, runtime.NumGoroutine(), recent)
		}
		if len(wantSample) > 0 && cycles >= wantSample[0] && complete {
			ga.Reset() // the fake keeps what it receives
			smp := settle(cycles)
			goroutineDumps = append(goroutineDumps, goroutineDump())
			samples = append(samples, smp)
			wantSample = wantSample[1:]
			if fs := foreignEndpoints(os.Getpid()); len(fs) != 0 {
				t.Errorf("sockets to non-loopback addresses: %v", fs)
			}
			vctx, vcancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := assertInvisibleVia(vctx, s.cl, c.names()); err != nil {
				t.Error(err)
			}
			vcancel()
			continue
		}
		if cycles >= nextRestart && (len(wantSample) == 0 || cycles < wantSample[0]-50) {
			n := c.nodes[victim%3]
			victim++
			if err := n.Restart(); err != nil {
				t.Fatalf("restart %s: %v", n.Name, err)
			}
			restarts++
			nextRestart += soakRestartEvery
		}
		if ga.RequestCount() > 2000 {
			ga.Reset()
		}
	}
	// Keep going until ergo would have phoned home.
	for time.Since(started) < ergoPhoneHome && !testing.Short() {
		time.Sleep(100 * time.Millisecond)
	}
	assertInvisible(t, s.cl.Name(), true, c.nodes...)
	cycles, missing, _ := src.state()
	src.mu.Lock()
	down, cut := src.down, src.cut
	src.mu.Unlock()
	cancel()
	select {
	case <-runDone:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5 s of its context ending")
	}
	s.cl.Close()
	// What the sidecar started ends with it; give it a moment.
	after := settle(cycles)
	for wait := time.Now().Add(3 * time.Second); after.goroutines > baseline.goroutines+3 && time.Now().Before(wait); {
		time.Sleep(100 * time.Millisecond)
		after = settle(cycles)
	}
	elapsed := time.Since(started)

	at500, at1000, atEnd := samples[0], samples[1], samples[2]
	t.Logf("SOAK: %d cycles of %v in %v, %d restarts, %d cycles with a missing node (%d with a node down or restarting, %d only cut short by the next tick), %d cycles cancelled at the next tick; "+
		"goroutines %d (before start) / %d (cycle %d) / %d (cycle %d) / %d (cycle %d) / %d (stopped); "+
		"fds %d / %d / %d / %d / %d; heap in use %s / %s / %s / %s / %s",
		cycles, soakPeriod, elapsed.Round(time.Second), restarts, missing, down, cut, counting.count("WARN the previous report cycle was still running"),
		baseline.goroutines, at500.goroutines, at500.cycle, at1000.goroutines, at1000.cycle, atEnd.goroutines, atEnd.cycle, after.goroutines,
		baseline.fds, at500.fds, at1000.fds, atEnd.fds, after.fds,
		mb(baseline.heap), mb(at500.heap), mb(at1000.heap), mb(atEnd.heap), mb(after.heap))
	t.Logf("log lines by message:\n%s", counting.summary())
	// The margins allow for what is in flight at a 10 ms period on a busy
	// 2-core machine (other test packages run beside this one); a leak of
	// one goroutine or a few hundred bytes per cycle exceeds them many times.
	if atEnd.goroutines > at500.goroutines+25 {
		t.Errorf("goroutines grew from %d at cycle %d to %d at cycle %d; at cycle %d:\n%s\nat cycle %d:\n%s",
			at500.goroutines, at500.cycle, atEnd.goroutines, atEnd.cycle, at500.cycle, goroutineDumps[0], atEnd.cycle, goroutineDumps[2])
	}
	if atEnd.fds > at500.fds+2 {
		t.Errorf("file descriptors grew from %d at cycle %d to %d at cycle %d", at500.fds, at500.cycle, atEnd.fds, atEnd.cycle)
	}
	if atEnd.heap > at1000.heap+4<<20 {
		t.Errorf("heap in use grew from %s at cycle %d to %s at cycle %d", mb(at1000.heap), at1000.cycle, mb(atEnd.heap), atEnd.cycle)
	}
	if after.goroutines > baseline.goroutines+3 {
		t.Errorf("%d goroutines 3 s after the sidecar stopped, %d before it started:\n%s", after.goroutines, baseline.goroutines, goroutineDump())
	}
	if restarts < total/soakRestartEvery/2 {
		t.Errorf("only %d restarts in %d cycles", restarts, cycles)
	}
	if down == 0 {
		t.Error("no cycle missed a node: the restarts were not seen")
	}
	// How many cycles are complete depends on the machine's load (at a
	// 10 ms period: most when idle, 10 of 10,534 under a load of 40): the
	// soak asks only that complete reports keep coming, which the samples
	// prove (each is taken at a complete cycle, within the deadline).
	if complete := cycles - missing; complete < len(samples) {
		t.Errorf("only %d of %d cycles were complete: the sidecar hardly ever completes a report", complete, cycles)
	}
	if after.fds > baseline.fds+2 {
		t.Errorf("%d file descriptors after the sidecar stopped, %d before it started", after.fds, baseline.fds)
	}
	if cycles < total {
		t.Errorf("%d cycles, want %d", cycles, total)
	}
	if q := dns.queries(); len(q) != 0 {
		t.Errorf("DNS queries: %v (ergo's anonymous metrics look up metrics.ergo.services)", q)
	}
	if fs := foreignEndpoints(os.Getpid()); len(fs) != 0 {
		t.Errorf("sockets to non-loopback addresses: %v", fs)
	}
	if !testing.Short() && elapsed < ergoPhoneHome {
		t.Errorf("the soak lasted %v, less than the minute after which ergo would phone home", elapsed)
	}
	for _, w := range counting.st.recent {
		if strings.Contains(w, "panic") {
			t.Errorf("logged: %s", w)
		}
	}
}

// settle takes the process's figures at a quiet moment: the fewest
// goroutines and descriptors of a few readings, and the least heap in use
// after a collection of a few (with a 10 ms period a cycle is nearly
// always in flight, and holds its answers, buffers and goroutines for a
// few milliseconds).
func settle(cycle int) sample {
	s := sample{cycle: cycle, goroutines: 1 << 30, fds: 1 << 30, heap: 1 << 62}
	for i := range 40 {
		s.goroutines = min(s.goroutines, runtime.NumGoroutine())
		s.fds = min(s.fds, numFDs())
		if i%8 == 0 {
			s.heap = min(s.heap, heapInuse())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return s
}

// goroutineDump lists the goroutines by creation site and state.
func goroutineDump() string {
	var b strings.Builder
	_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
	return b.String()
}
