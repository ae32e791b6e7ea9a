package dashboard

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/mim-metrics/mim-metrics/store"
)

// The line every page leads with: how many clusters the filter covers and
// how recent the data is, "57 clusters reporting (production 45, ci 12) ·
// data up to 2026-03-02 UTC". In the public view a series of fewer than K
// clusters is "fewer than K", and then no total is given (it would tell).

// statusLine writes the line from a page's input.
func (d *dashboard) statusLine(in *pageInput, admin bool) string {
	if in == nil || in.empty() {
		return "No cluster reporting in this period"
	}
	var parts []string
	var total int64
	hidden := false
	for _, s := range in.f.series() {
		var n int64
		if c := in.counts[s]; c != nil {
			n = int64(c.Active)
		}
		text := string(s) + " " + strconv.FormatInt(n, 10)
		if !admin && n > 0 && n < d.min {
			text, hidden = string(s)+" "+builder{k: d.min}.fewer(), true
		}
		parts = append(parts, text)
		total += n
	}
	line := ""
	switch {
	case hidden:
		line = strings.Join(parts, ", ") + " reporting"
	case len(parts) == 1:
		line = clustersText(total) + " reporting"
	default:
		line = clustersText(total) + " reporting (" + strings.Join(parts, ", ") + ")"
	}
	if !in.last.IsZero() {
		line += " · data up to " + dayKey(in.last) + " UTC"
	}
	return line
}

// status computes the line for a page that does not draw charts.
func (d *dashboard) status(ctx context.Context, f filter, admin bool) string {
	l, err := d.load(ctx, f)
	if err != nil {
		return ""
	}
	return d.statusLine(l.in, admin)
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// lastReportLine is the admin page's status: when a batch was last stored.
func lastReportLine(last map[string]time.Time) string {
	var newest time.Time
	for _, t := range last {
		if t.After(newest) {
			newest = t
		}
	}
	if newest.IsZero() {
		return "No report stored yet"
	}
	return "Data up to " + newest.UTC().Format("2006-01-02 15:04") + " UTC (the last batch stored)"
}

// historyLine is a cluster page's status: its days of history.
func historyLine(hist []store.ClusterDay) string {
	if len(hist) == 0 {
		return "No facts of this cluster in the period"
	}
	return strconv.Itoa(len(hist)) + " days reported in the period · data up to " + dayKey(hist[len(hist)-1].Day) + " UTC"
}
