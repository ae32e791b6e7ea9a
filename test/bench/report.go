package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// renderReport formats the results as Markdown.
func renderReport(rows []row, mem *memResult, o options, took time.Duration, loadStart, loadEnd string) string {
	var b strings.Builder
	b.WriteString("### Collection (median of the timed runs, after 2 warm-ups)\n\n")
	b.WriteString("| fixture | hosts | nodes | ours | in-node | ratio | ours − in-node | round trips/node (first, later) | bytes from the seed | bytes from another node | events/node | gathers in parallel | first collection | runs |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range rows {
		other := "–"
		if r.nodes > 1 {
			other = fmt.Sprint(r.bytesOther)
		}
		par := "–"
		if r.nodes > 1 {
			par = fmt.Sprintf("%d/%d", r.parallel, r.reps)
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %.2f | %s | %d, %d | %d | %s | %d | %s | %s | %d |\n",
			r.era, r.hosts, r.nodes, ms(r.ours), ms(r.baseline), r.ratio(), ms(r.ours-r.baseline),
			r.callsFirst, r.callsLater, r.bytesSeed, other, r.events, par, ms(r.first), r.reps)
	}
	b.WriteString("\n### CPU per collection (back to back, no baseline in between)\n\n")
	b.WriteString("| fixture | hosts | nodes | busiest node | collector | busiest × nodes + collector | wall | runs |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %s | %s | %d |\n", r.era, r.hosts, r.nodes,
			ms(r.cpu.node), ms(r.cpu.collector), ms(time.Duration(r.nodes)*r.cpu.node+r.cpu.collector), ms(r.cpu.wall), r.cpu.runs)
	}
	if mem != nil {
		fmt.Fprintf(&b, "\n### Memory of `mim-metrics run` (%s period, one %s node, fake GA on loopback, CI=true)\n\n", o.period, mem.era)
		b.WriteString("| cycles | took | cancelled cycles | GA requests | VmRSS at cycle 100 | VmRSS at the last cycle | growth | peak (VmHWM) | binary |\n")
		b.WriteString("|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		fmt.Fprintf(&b, "| %d | %s | %d | %d | %s | %s | %s | %s | %s |\n",
			mem.cycles, mem.elapsed.Round(time.Millisecond), mem.cancelled, mem.requests,
			mb(mem.rssAt100), mb(mem.rssEnd), mbSigned(mem.rssEnd-mem.rssAt100), mb(mem.hwm), mb(mem.binSize))
	}
	b.WriteString("\n### Targets\n\n")
	missed := checkTargets(rows, mem)
	fmt.Fprintf(&b, "- ratio to the in-node gather at %d hosts ≤ %.1f; at 1 host, less than %s per collection and less than %s of the busiest node's CPU\n", largestSize, maxRatioLargest, ms(maxWallOneHost), ms(maxNodeCPUOneHost))
	fmt.Fprintf(&b, "- round trips per node ≤ %d at every size; with 3 nodes, all gathers in flight at once in ≥ 90%% of the collections\n", maxRoundTrips)
	if mem != nil {
		fmt.Fprintf(&b, "- resident memory ≤ %s after %d cycles, growth ≤ %s from cycle 100\n", mb(maxRSS), mem.wantCycles, mb(maxRSSGrowth))
	}
	if len(missed) == 0 {
		b.WriteString("\nAll met.\n")
	} else {
		b.WriteString("\nMissed:\n\n")
		for _, m := range missed {
			fmt.Fprintf(&b, "- %s\n", m)
		}
	}
	b.WriteString("\n### Machine\n\n")
	for _, l := range machine() {
		fmt.Fprintf(&b, "- %s\n", l)
	}
	fmt.Fprintf(&b, "- benchmark took %s; load average at start %s, at end %s\n", took.Round(time.Second), loadStart, loadEnd)
	return b.String()
}

// loadAvg is the 1, 5 and 15 minute load averages (other work on the
// machine skews the times).
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

func mbSigned(b int64) string {
	if b < 0 {
		return "−" + mb(-b)
	}
	return "+" + mb(b)
}

// machine describes where the benchmark ran.
func machine() []string {
	var out []string
	out = append(out, fmt.Sprintf("%d CPUs (nproc), %s", runtime.NumCPU(), cpuModel()))
	out = append(out, "memory: "+memTotal())
	out = append(out, fmt.Sprintf("%s %s/%s; the collector with GOMAXPROCS %d, as mim-metrics runs (node.LimitProcs)",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0)))
	if v, err := exec.Command("erl", "-noshell", "-eval",
		`io:format("Erlang/OTP ~s, ERTS ~s", [erlang:system_info(otp_release), erlang:system_info(version)]), halt().`).Output(); err == nil {
		out = append(out, strings.TrimSpace(string(v)))
	}
	if k, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		out = append(out, "Linux "+strings.TrimSpace(string(k)))
	}
	out = append(out, "date: "+time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	return out
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
