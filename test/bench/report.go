package main

import (
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/mim-metrics/mim-metrics/test/bench/benchkit"
)

// renderReport formats the results as Markdown.
func renderReport(rows []row, mem *memResult, o options, run *benchkit.Run) string {
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
	benchkit.WriteOutcome(&b, missed)
	run.WriteMachine(&b, "the collector with that GOMAXPROCS, as mim-metrics runs (node.LimitProcs)", erlangVersion())
	return b.String()
}

func mbSigned(b int64) string {
	if b < 0 {
		return "−" + mb(-b)
	}
	return "+" + mb(b)
}

// erlangVersion is the OTP release and ERTS version of the erl on PATH.
func erlangVersion() string {
	v, err := exec.Command("erl", "-noshell", "-eval",
		`io:format("Erlang/OTP ~s, ERTS ~s", [erlang:system_info(otp_release), erlang:system_info(version)]), halt().`).Output()
	if err != nil {
		return "Erlang: unknown version"
	}
	return strings.TrimSpace(string(v))
}
