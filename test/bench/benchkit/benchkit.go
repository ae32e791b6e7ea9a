// Package benchkit is what the benchmark commands share: finding the
// module, and the last sections of their Markdown reports (the targets
// met or missed, the machine, the run).
package benchkit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"
)

// ModuleRoot finds the directory of go.mod (with test/fixtures beside it)
// from the working directory up.
func ModuleRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "test", "fixtures")); err == nil {
				return d, nil
			}
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", errors.New("run from inside the mim-metrics module (no go.mod with test/fixtures above the working directory)")
		}
		d = parent
	}
}

// Run is one run of a benchmark: when it started and the machine's load
// then (other work on the machine skews the times).
type Run struct {
	command   string
	started   time.Time
	loadStart string
}

// Start starts a run of the benchmark that command runs ("go run
// ./test/bench/receiver"; its arguments are added).
func Start(command string) *Run {
	return &Run{command: strings.Join(append([]string{command}, os.Args[1:]...), " "),
		started: time.Now(), loadStart: loadAvg()}
}

// WriteOutcome writes "All met." or the list of the targets missed.
func WriteOutcome(b *strings.Builder, missed []string) {
	if len(missed) == 0 {
		b.WriteString("\nAll met.\n")
		return
	}
	b.WriteString("\nMissed:\n\n")
	for _, m := range missed {
		fmt.Fprintf(b, "- %s\n", m)
	}
}

// WriteMachine writes the report's "Machine" section: the CPUs, memory,
// Go, the lines of more (what else ran: Erlang, PostgreSQL...), the kernel
// and the date; then how long the run took and the load at its start and
// now.
func (r *Run) WriteMachine(b *strings.Builder, more ...string) {
	b.WriteString("\n### Machine\n\n")
	lines := []string{
		fmt.Sprintf("%d CPUs (nproc), %s", runtime.NumCPU(), cpuModel()),
		"memory: " + memTotal(),
		fmt.Sprintf("%s %s/%s, GOMAXPROCS %d", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0)),
	}
	lines = append(lines, more...)
	if k, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		lines = append(lines, "Linux "+strings.TrimSpace(string(k)))
	}
	lines = append(lines, "date: "+time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	for _, l := range lines {
		fmt.Fprintf(b, "- %s\n", l)
	}
	fmt.Fprintf(b, "- `%s` took %s; load average at start %s, at end %s\n",
		r.command, time.Since(r.started).Round(time.Second), r.loadStart, loadAvg())
}

// loadAvg is the 1, 5 and 15 minute load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "MemTotal:") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				var kb int64
				fmt.Sscan(f[1], &kb)
				return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	return "unknown"
}

// StartCPUProfile writes a CPU profile of this process to path until stop
// is called; with no path it does nothing.
func StartCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
