package main

import (
	"fmt"
	"time"
)

// The targets of issue 15, checked after every run: the benchmark exits 1
// when one is missed.
const (
	// maxRatioLargest: a full collection of the largest size (10,000 hosts)
	// takes at most this many times the in-node compiled gather.
	maxRatioLargest = 1.5
	// largestSize is the size maxRatioLargest applies to.
	largestSize = 10000
	// maxWallOneHost: at 1 host, a full collection takes less than this.
	maxWallOneHost = 5 * time.Millisecond
	// maxNodeCPUOneHost: at 1 host, a collection costs the busiest node
	// less than this CPU time.
	maxNodeCPUOneHost = 2 * time.Millisecond
	// maxRoundTrips per node and collection, at every size (the seed's
	// member discovery included). Collections of several nodes must also
	// have every node's gather in flight at one moment, in at least 90% of
	// them (on a loaded machine, a goroutine may start a small gather
	// after another one has ended).
	maxRoundTrips = 3
	// maxRSS of `mim-metrics run` after the memory run's last cycle
	// (25 MB, in bytes: 10^6, the stricter reading).
	maxRSS = 25_000_000
	// maxRSSGrowth between cycle 100 and the last cycle (1 MB).
	maxRSSGrowth = 1_000_000
)

// checkTargets returns one line per missed target.
func checkTargets(rows []row, mem *memResult) []string {
	var missed []string
	for _, r := range rows {
		name := fmt.Sprintf("%s, %d hosts, %d nodes", r.era, r.hosts, r.nodes)
		if r.callsMax > maxRoundTrips {
			missed = append(missed, fmt.Sprintf("%s: %d round trips to one node, target ≤ %d", name, r.callsMax, maxRoundTrips))
		}
		if r.nodes > 1 && r.parallel*10 < r.reps*9 {
			missed = append(missed, fmt.Sprintf("%s: the nodes' gathers overlapped in only %d of %d collections", name, r.parallel, r.reps))
		}
		if r.hosts == largestSize && r.ratio() > maxRatioLargest {
			missed = append(missed, fmt.Sprintf("%s: %.2f × the in-node gather, target ≤ %.1f", name, r.ratio(), maxRatioLargest))
		}
		if r.hosts == 1 && r.ours >= maxWallOneHost {
			missed = append(missed, fmt.Sprintf("%s: %s per collection, target < %s", name, ms(r.ours), ms(maxWallOneHost)))
		}
		if r.hosts == 1 && r.cpu.node >= maxNodeCPUOneHost {
			missed = append(missed, fmt.Sprintf("%s: %s of node CPU per collection, target < %s", name, ms(r.cpu.node), ms(maxNodeCPUOneHost)))
		}
	}
	if mem != nil {
		if mem.cycles < mem.wantCycles {
			missed = append(missed, fmt.Sprintf("memory run: only %d of %d cycles completed", mem.cycles, mem.wantCycles))
		}
		if mem.rssEnd > maxRSS {
			missed = append(missed, fmt.Sprintf("memory run: %s resident after %d cycles, target ≤ %s", mb(mem.rssEnd), mem.cycles, mb(maxRSS)))
		}
		if g := mem.rssEnd - mem.rssAt100; g > maxRSSGrowth {
			missed = append(missed, fmt.Sprintf("memory run: grew %s from cycle 100 to %d, target ≤ %s", mb(g), mem.cycles, mb(maxRSSGrowth)))
		}
	}
	return missed
}

// mb formats bytes in MB (10^6 bytes).
func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }
