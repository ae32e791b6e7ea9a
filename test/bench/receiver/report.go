package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/mim-metrics/mim-metrics/test/bench/benchkit"
)

// renderReport formats the results as Markdown.
func renderReport(r *results, run *benchkit.Run) string {
	var b strings.Builder
	o := r.opts
	if len(r.ingest) > 0 {
		fmt.Fprintf(&b, "### Ingest (%d simulated clusters of %d nodes, %.1f events a node's report, %d concurrent senders, %s each, loopback)\n\n",
			o.clusters, nodesPerCluster, r.events, o.clients, o.duration)
		b.WriteString("| store | path | events/s | share of raw | requests (batches) | p50 latency | p99 latency | errors | acknowledged = stored | VmRSS | VmHWM | CPU per event |\n")
		b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, i := range r.ingest {
			share := "–"
			if raw, ok := r.raw(i.store); ok && i.mode == httpMode {
				share = fmt.Sprintf("%.0f%%", 100*i.rate()/raw.rate())
			}
			stored := "not checked"
			if i.stored >= 0 {
				stored = fmt.Sprintf("%d = %d", i.events, i.stored)
				if i.events != i.stored {
					stored = fmt.Sprintf("%d ≠ %d", i.events, i.stored)
				}
			}
			fmt.Fprintf(&b, "| %s | %s | %.0f | %s | %d | %s | %s | %d | %s | %s | %s | %s |\n",
				i.store, i.mode.label(), i.rate(), share, i.requests, ms(i.p50), ms(i.p99), i.errors, stored, mb(i.rss), mb(i.hwm), i.cpuPerEvent())
		}
		b.WriteString("\n")
	}
	if len(r.scale) > 0 {
		fmt.Fprintf(&b, "### Scale (%d clusters reporting every 3 h: a year of roll-ups, %d full day(s) of raw events)\n\n", o.clusters, o.rawDays)
		b.WriteString("| store | roll-up rows and cluster runs, 365 days (load time) | database, roll-ups and runs only | raw events loaded (rate) | database per raw day | database, 90 raw days | RollUp of one day: first, again, again | rows that day |\n")
		b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, s := range r.scale {
			var times []string
			for _, t := range s.rollupTimes {
				times = append(times, secs(t))
			}
			if s.rawDays == 0 {
				fmt.Fprintf(&b, "| %s | %d and %d (%s) | %s measured | not loaded (-raw-days 0) | – | – | – | – |\n",
					s.store, s.rollupRows, s.runs, secs(s.rollupLoad), mb(s.sizeYear))
				continue
			}
			fmt.Fprintf(&b, "| %s | %d and %d (%s) | %s measured | %d in %d day(s) (%.0f/s) | %s measured | %s extrapolated | %s | %d |\n",
				s.store, s.rollupRows, s.runs, secs(s.rollupLoad), mb(s.sizeYear), s.rawEvents, s.rawDays,
				float64(s.rawEvents)/s.rawLoad.Seconds(), mb(s.rawPerDay()), mb(s.size90()), strings.Join(times, ", "), s.dayRows)
		}
		for _, s := range r.scale {
			if s.rawDays == 0 {
				continue
			}
			if len(s.differ) == 0 {
				fmt.Fprintf(&b, "\n%s: the generated roll-ups of %s equal what RollUp computed from that day's raw events (all versions, new/returning aside).\n", s.store, s.lastDay.Format(time.DateOnly))
			} else {
				fmt.Fprintf(&b, "\n%s: the generated roll-ups of %s differ from RollUp's: %s.\n", s.store, s.lastDay.Format(time.DateOnly), strings.Join(s.differ, "; "))
			}
		}
		if len(r.scale) > 0 && r.scale[0].alongside > 1 {
			fmt.Fprintf(&b, "\nThe %d stores were loaded at the same time (through AddBatch, %d senders each): the load rates are of stores sharing the machine; the roll-ups and the dashboard were timed one store after the other, with nothing else of the benchmark running.\n", r.scale[0].alongside, o.clients)
		}
		b.WriteString("\nMeasured: the sizes after loading (SQLite: the files after a WAL checkpoint; PostgreSQL: pg_database_size). ")
		b.WriteString("Extrapolated: 90 days of raw events = roll-ups + 90 × the measured size of one raw day.\n\n")
	}
	if len(r.dashboard) > 0 {
		fmt.Fprintf(&b, "### Dashboard (server time of the handler on the scale data set: %d requests each after a warm-up, fewer when they took over %s)\n\n", o.reps, o.budget)
		callsTable(&b, r.dashboard)
	}
	if len(r.adminList) > 0 {
		fmt.Fprintf(&b, "### Admin cluster list (server time of /admin among %d client ids, %d requests each after a warm-up)\n\n", o.adminClusters, o.reps)
		for _, kind := range o.stores {
			if took, ok := r.adminLoad[kind]; ok {
				fmt.Fprintf(&b, "%s: %d cluster rows loaded (store.LoadClusters) in %s.\n\n", kind, o.adminClusters, secs(took))
			}
		}
		callsTable(&b, r.adminList)
	}
	b.WriteString("### Targets\n\n")
	fmt.Fprintf(&b, "- ingest over HTTP ≥ %.0f%% of the same store's raw AddBatch rate, p99 latency ≤ %s, VmRSS ≤ %s, no error, everything acknowledged stored\n",
		100*minRawShare, ms(maxP99), mb(maxRSS))
	fmt.Fprintf(&b, "- one day's roll-ups of %d clusters ≤ %s on SQLite\n", rollUpClusters, maxRollUp)
	fmt.Fprintf(&b, "- roll-ups and runs of a year of %d clusters ≤ %s\n", rollUpClusters, mb(maxYearBytes))
	fmt.Fprintf(&b, "- dashboard p95 ≤ %s for a page, ≤ %s for an API call (the first request after a roll-up is shown beside it)\n", ms(maxPageP95), ms(maxAPIP95))
	fmt.Fprintf(&b, "- /admin p95 ≤ %s among the admin phase's client ids (page 200: ≤ %s)\n", ms(maxAdminListP95), ms(maxDeepPageP95))
	benchkit.WriteOutcome(&b, checkTargets(r))
	run.WriteMachine(&b, postgresVersion())
	return b.String()
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// callsTable writes the timed calls as a Markdown table.
func callsTable(b *strings.Builder, rows []dashboardRow) {
	b.WriteString("| store | call | type | status | bytes | first, after a roll-up | median | p95 | target p95 | requests |\n")
	b.WriteString("|---|---|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, d := range rows {
		typ := "page"
		if d.call.api {
			typ = "API"
		}
		if d.call.admin {
			typ += ", admin"
		}
		fmt.Fprintf(b, "| %s | `%s` | %s | %d | %d | %s | %s | %s | %s | %d |\n",
			d.store, d.call.path, typ, d.status, d.bytes, ms(d.cold), ms(d.median), ms(d.p95), ms(d.call.limit()), d.reps)
	}
	b.WriteString("\n")
}
