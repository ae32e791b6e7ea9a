package dashboard

import (
	"fmt"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

// Periods the filter offers, in days.
var periods = []int{30, 90, 365}

// Kind filter values besides the store's kinds.
const kindAll = "all"

// filter is what a page or API call shows: the last Days days up to today,
// the property kinds, the server version (facts.AllVersions: every cluster).
type filter struct {
	Days    int
	Kind    string
	Version string
	From    time.Time
	To      time.Time
}

// parseFilter reads period, kind and version from a query string; a bad
// value is an error naming it.
func parseFilter(q url.Values, today time.Time) (filter, error) {
	f := filter{Days: 30, Kind: kindAll, Version: facts.AllVersions}
	if p := q.Get("period"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || !validPeriod(n) {
			return f, fmt.Errorf("period %q: use 30, 90 or 365 (days)", truncate(p, 20))
		}
		f.Days = n
	}
	switch k := q.Get("kind"); k {
	case "", kindAll:
	case string(store.Production), string(store.CI):
		f.Kind = k
	default:
		return f, fmt.Errorf("kind %q: use production, ci or all", truncate(k, 20))
	}
	if v := q.Get("version"); v != "" {
		if utf8.RuneCountInString(v) > 100 || !utf8.ValidString(v) {
			return f, fmt.Errorf("version: at most 100 characters of UTF-8")
		}
		f.Version = v
	}
	f.To = store.Day(today)
	f.From = f.To.AddDate(0, 0, -(f.Days - 1))
	return f, nil
}

func validPeriod(n int) bool {
	for _, p := range periods {
		if n == p {
			return true
		}
	}
	return false
}

// series are the property kinds drawn side by side: both for "all".
func (f filter) series() []store.Kind {
	switch f.Kind {
	case string(store.Production):
		return []store.Kind{store.Production}
	case string(store.CI):
		return []store.Kind{store.CI}
	}
	return []store.Kind{store.Production, store.CI}
}

// query selects the roll-up rows of dims in the filter's period, kinds and
// version.
func (f filter) query(dims ...string) store.RollupQuery {
	q := store.RollupQuery{From: f.From, To: f.To, Version: f.Version, Dimensions: dims}
	if f.Kind != kindAll {
		q.Kind = store.Kind(f.Kind)
	}
	return q
}

// values gives the filter as query parameters (links keep the filter).
func (f filter) values() url.Values {
	v := url.Values{}
	v.Set("period", strconv.Itoa(f.Days))
	v.Set("kind", f.Kind)
	v.Set("version", f.Version)
	return v
}

// days lists every day of the period, oldest first.
func (f filter) days() []time.Time {
	days := make([]time.Time, 0, f.Days)
	for d := f.From; !d.After(f.To); d = d.AddDate(0, 0, 1) {
		days = append(days, d)
	}
	return days
}

// truncate shortens s to at most n runes, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
