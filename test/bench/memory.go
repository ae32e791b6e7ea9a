package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// memResult is what the memory run measured.
type memResult struct {
	wantCycles int
	cycles     int   // "report cycle done" lines seen
	cancelled  int   // cycles cancelled by the next tick
	rssAt100   int64 // VmRSS at cycle 100, bytes
	rssEnd     int64 // VmRSS at the last cycle
	hwm        int64 // VmHWM (peak RSS) at the last cycle
	requests   int64 // requests the fake GA received
	elapsed    time.Duration
	era        string
	binSize    int64
}

// measureMemory builds cmd/mim-metrics, runs `mim-metrics run` against one
// fixture node with the given period, and reads its VmRSS at cycle 100
// and at the last cycle, counting cycles from its JSON log.
func measureMemory(fx *fixtures, root, build string, o options) (memResult, error) {
	res := memResult{wantCycles: o.cycles, era: "mim-6.2.1"}
	bin := filepath.Join(build, "mim-metrics")
	logf("memory: go build ./cmd/mim-metrics")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/mim-metrics")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return res, fmt.Errorf("go build: %v: %s", err, out)
	}
	if st, err := os.Stat(bin); err == nil {
		res.binSize = st.Size()
	}
	nodes, err := fx.startNodes(res.era, 1, 1, schedulersPerNode(1, o.schedulers))
	if err != nil {
		return res, err
	}
	defer nodes[0].Stop()

	// A local Google Analytics that accepts everything.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	var requests atomic.Int64
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		requests.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	state := filepath.Join(build, "state")
	if err := os.MkdirAll(state, 0o700); err != nil {
		return res, err
	}
	run := exec.Command(bin, "run", "--node", nodes[0].Name,
		"--initial-report", "0", "--periodic-report", o.period.String(), "--report",
		"--ga-endpoint", "http://"+ln.Addr().String(), "--log-format", "json",
		"--state-dir", state, "--report-file", filepath.Join(build, "report.json"))
	run.Env = append(os.Environ(), "CI=true", "MIM_METRICS_COOKIE="+nodes[0].Cookie)
	run.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := run.StdoutPipe()
	if err != nil {
		return res, err
	}
	stderr := &strings.Builder{}
	run.Stderr = &limitWriter{w: stderr, n: 1 << 16}
	logf("memory: mim-metrics run, %d cycles every %s against one %s node", o.cycles, o.period, res.era)
	start := time.Now()
	if err := run.Start(); err != nil {
		return res, err
	}
	pid := run.Process.Pid
	stop := func() {
		_ = syscall.Kill(-pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = run.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			<-done
		}
	}

	deadline := time.AfterFunc(time.Duration(o.cycles)*o.period*4+60*time.Second, func() {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	})
	defer deadline.Stop()
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var lastErr string
	for sc.Scan() {
		var line struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
			Error string `json:"error"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		switch {
		case strings.HasPrefix(line.Msg, "report cycle done"):
			res.cycles++
		case strings.HasPrefix(line.Msg, "the previous report cycle was still running"):
			res.cancelled++
		case line.Level == "error":
			lastErr = line.Msg + ": " + line.Error
		}
		if res.cycles == 100 && res.rssAt100 == 0 {
			if res.rssAt100, _, err = procStatus(pid); err != nil {
				stop()
				return res, err
			}
		}
		if res.cycles >= o.cycles {
			res.elapsed = time.Since(start)
			res.rssEnd, res.hwm, err = procStatus(pid)
			res.requests = requests.Load()
			stop()
			if err != nil {
				return res, err
			}
			logf("memory: %d cycles in %s (%d cancelled), %s resident at cycle 100, %s at cycle %d, peak %s",
				res.cycles, res.elapsed.Round(time.Millisecond), res.cancelled, mb(res.rssAt100), mb(res.rssEnd), res.cycles, mb(res.hwm))
			return res, nil
		}
	}
	stop()
	return res, fmt.Errorf("mim-metrics run ended after %d cycles (last error: %s): %s", res.cycles, lastErr, stderr.String())
}

// procStatus reads VmRSS and VmHWM of pid, in bytes.
func procStatus(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb << 10
		case "VmHWM:":
			hwm = kb << 10
		}
	}
	if rss == 0 {
		return 0, 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	return rss, hwm, nil
}

type limitWriter struct {
	w io.Writer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.n <= 0 {
		return len(p), nil
	}
	q := p
	if len(q) > l.n {
		q = q[:l.n]
	}
	l.n -= len(q)
	_, _ = l.w.Write(q)
	return len(p), nil
}
