package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mim-metrics/mim-metrics/store"
)

// ingestMode is how events reach the store.
type ingestMode string

const (
	// rawMode calls Store.AddBatch directly: the store's own rate.
	rawMode ingestMode = "raw"
	// httpMode posts the sidecar's requests to the receiver's handler.
	httpMode ingestMode = "http"
)

func (m ingestMode) String() string { return string(m) }

// label names the mode in the tables.
func (m ingestMode) label() string {
	if m == rawMode {
		return "raw AddBatch"
	}
	return "HTTP /mp/collect"
}

// ingestResult is one ingest measurement.
type ingestResult struct {
	store    string
	mode     ingestMode
	clients  int
	elapsed  time.Duration
	requests int64 // requests (HTTP) or AddBatch calls (raw) that succeeded
	events   int64 // events they carried
	errors   int64
	errorMsg []string // the first distinct errors
	p50, p99 time.Duration
	rss, hwm int64         // VmRSS and VmHWM of this process at the end, bytes
	cpu      time.Duration // CPU time (user + system) of this process while sending
	stored   int64         // raw events the store holds afterwards (Export), -1 unknown
}

func (r ingestResult) rate() float64 { return float64(r.events) / r.elapsed.Seconds() }

// cpuPerEvent is this process's CPU time per event stored (the sender's,
// the receiver's and the store's client side; PostgreSQL's own processes
// not included).
func (r ingestResult) cpuPerEvent() string {
	if r.events == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f µs", float64(r.cpu.Microseconds())/float64(r.events))
}

// errorLog keeps a count of errors and the first few distinct messages.
type errorLog struct {
	mu   sync.Mutex
	n    int64
	msgs []string
}

func (l *errorLog) add(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	if len(l.msgs) < 3 {
		for _, m := range l.msgs {
			if m == msg {
				return
			}
		}
		l.msgs = append(l.msgs, msg)
	}
}

// measureIngest sends the clusters' reports, cycle after cycle, from
// o.clients concurrent senders for o.duration: to the receiver's handler
// over HTTP, or to st.AddBatch directly.
func measureIngest(ctx context.Context, w *world, st store.Store, kind string, mode ingestMode, o options) (ingestResult, error) {
	res := ingestResult{store: kind, mode: mode, clients: o.clients, stored: -1}
	var send func(ctx context.Context, c *cluster, cycle int64, at time.Time, lat *[]time.Duration, errs *errorLog) (reqs, events int64)
	switch mode {
	case rawMode:
		send = func(ctx context.Context, c *cluster, cycle int64, at time.Time, lat *[]time.Duration, errs *errorLog) (reqs, events int64) {
			for _, b := range w.batches(c, c.gen, cycle, at) {
				t0 := time.Now()
				stored, err := st.AddBatch(ctx, b)
				*lat = append(*lat, time.Since(t0))
				switch {
				case err != nil:
					errs.add("AddBatch: %v", err)
				case !stored:
					errs.add("AddBatch: a new batch was taken for a duplicate")
				default:
					reqs++
					events += int64(len(b.Events))
				}
			}
			return reqs, events
		}
	case httpMode:
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return res, err
		}
		srv, err := newReceiver(st, ln.Addr().String())
		if err != nil {
			ln.Close()
			return res, err
		}
		go srv.Serve(ln)
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			srv.Shutdown(sctx)
		}()
		endpoint := "http://" + ln.Addr().String()
		client := &http.Client{
			Timeout:   30 * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: o.clients, MaxConnsPerHost: o.clients, DisableCompression: true},
		}
		defer client.CloseIdleConnections()
		send = func(ctx context.Context, c *cluster, cycle int64, at time.Time, lat *[]time.Duration, errs *errorLog) (reqs, events int64) {
			rs, err := w.requests(c, c.gen, cycle, endpoint, at)
			if err != nil {
				errs.add("build requests: %v", err)
				return 0, 0
			}
			for _, r := range rs {
				req, err := http.NewRequestWithContext(ctx, r.Method, r.URL.String(), bytes.NewReader(r.Body))
				if err != nil {
					errs.add("new request: %v", err)
					continue
				}
				req.Header = r.Header.Clone()
				// The receiver trusts 127.0.0.1 as a proxy: each cluster
				// has a source address of its own.
				req.Header.Set("X-Forwarded-For", c.addr)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						errs.add("POST: %v", err)
					}
					continue
				}
				body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
				resp.Body.Close()
				*lat = append(*lat, time.Since(t0))
				if resp.StatusCode/100 != 2 {
					errs.add("POST /mp/collect: %s: %s", resp.Status, strings.TrimSpace(string(body)))
					continue
				}
				reqs++
				events += int64(r.Events)
			}
			return reqs, events
		}
	}

	logf("%s: ingest %s, %d senders, %s", kind, mode.label(), o.clients, o.duration)
	var next atomic.Int64
	var reqs, events atomic.Int64
	errs := &errorLog{}
	lats := make([][]time.Duration, o.clients)
	cpu0 := processCPU()
	start := time.Now()
	deadline := start.Add(o.duration)
	dctx, cancel := context.WithDeadline(ctx, deadline.Add(time.Minute))
	defer cancel()
	var wg sync.WaitGroup
	for i := range o.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && dctx.Err() == nil {
				k := next.Add(1) - 1
				c := w.clusters[k%int64(len(w.clusters))]
				r, e := send(dctx, c, k/int64(len(w.clusters)), time.Now(), &lats[i], errs)
				reqs.Add(r)
				events.Add(e)
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.cpu = processCPU() - cpu0
	if err := ctx.Err(); err != nil {
		return res, err
	}
	res.requests, res.events = reqs.Load(), events.Load()
	res.errors, res.errorMsg = errs.n, errs.msgs
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	res.p50, res.p99 = percentile(all, 50), percentile(all, 99)
	res.rss, res.hwm = memStatus("VmRSS"), memStatus("VmHWM")
	logf("%s: ingest %s: %.0f events/s, p50 %s, p99 %s, %d errors, CPU %s per event", kind, mode.label(), res.rate(), ms(res.p50), ms(res.p99), res.errors, res.cpuPerEvent())
	if res.events == 0 {
		return res, errors.New("nothing was stored: " + strings.Join(res.errorMsg, "; "))
	}
	// What was acknowledged must be stored.
	n := int64(0)
	err := st.Export(ctx, start.Add(-time.Hour), time.Now().Add(time.Hour), func(store.StoredEvent) error { n++; return nil })
	if err != nil {
		return res, fmt.Errorf("export: %w", err)
	}
	res.stored = n
	logf("%s: ingest %s: %d events acknowledged, %d stored; VmRSS %s, VmHWM %s", kind, mode.label(), res.events, n, mb(res.rss), mb(res.hwm))
	return res, nil
}

// processCPU is the CPU time this process has used, user and system:
// next to the wall clock on a machine shared with other work.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// percentile is the p-th percentile (nearest rank) of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	return s[max(i-1, 0)]
}

// memStatus reads a field of /proc/self/status in bytes (VmRSS, VmHWM).
func memStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == field {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return kb * 1024
		}
	}
	return -1
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
