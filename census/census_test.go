package census

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

var day0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func day(n int) time.Time { return day0.AddDate(0, 0, n) }

// randomSet makes clusters with random runs of random profiles, and says
// day by day what each cluster reported (the truth).
func randomSet(rng *rand.Rand) (store.RunSet, map[string]map[int][]facts.Fact, map[string]store.Kind) {
	profiles := map[int64][]facts.Fact{}
	versions := []string{"6.3.1", "6.4.0", "6.5.0", "3.6.0"}
	for id := int64(1); id <= 12; id++ {
		v := versions[rng.IntN(len(versions))]
		fs := []facts.Fact{{Dimension: facts.Version, Value: v},
			{Dimension: facts.NodeNumber, Value: fmt.Sprint(1 + rng.IntN(4))},
			{Dimension: facts.Module, Value: "mod_mam"}}
		if rng.IntN(2) == 0 {
			fs = append(fs, facts.Fact{Dimension: facts.TLS, Value: "tls/fast_tls"})
		}
		if rng.IntN(3) == 0 {
			fs = append(fs, facts.Fact{Dimension: facts.Module, Value: "mod_vcard"})
		}
		if rng.IntN(4) == 0 { // mid-upgrade
			fs = append(fs, facts.Fact{Dimension: facts.Version, Value: "6.5.0"})
		}
		profiles[id] = fs
	}
	set := store.RunSet{Profiles: profiles}
	truth := map[string]map[int][]facts.Fact{}
	kinds := map[string]store.Kind{}
	for c := range 40 {
		client := fmt.Sprintf("c%02d", c)
		kind := store.Production
		if c%4 == 0 {
			kind = store.CI
		}
		kinds[client] = kind
		truth[client] = map[int][]facts.Fact{}
		for d := rng.IntN(10); d < 60; {
			length := 1 + rng.IntN(15)
			p := int64(1 + rng.IntN(len(profiles)))
			set.Runs = append(set.Runs, store.Run{Property: "P", ClientID: client, Kind: kind, First: day(d), Last: day(d + length - 1), Profile: p})
			for i := range length {
				truth[client][d+i] = profiles[p]
			}
			d += length + rng.IntN(5) // a gap, or none
		}
	}
	return set, truth, kinds
}

// The counts equal a count made day by day from what each cluster
// reported, for any period and version.
func TestCountMatchesDayByDayTruth(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 30 {
		set, truth, kinds := randomSet(rng)
		from := rng.IntN(50)
		to := from + rng.IntN(30)
		version := []string{facts.AllVersions, "6.5.0", "3.6.0"}[round%3]
		got := Count(set, Query{From: day(from), To: day(to), Version: version})

		want := map[store.Kind]*Counts{}
		for client, byDay := range truth {
			// What the cluster reported on the period's days (of the version).
			values := map[string]map[string]bool{}
			versionsSeen := map[string]bool{}
			active := false
			for d := from; d <= to; d++ {
				fs, ok := byDay[d]
				if !ok {
					continue
				}
				ran := version == facts.AllVersions
				for _, f := range fs {
					ran = ran || (f.Dimension == facts.Version && f.Value == version)
				}
				if !ran {
					continue
				}
				active = true
				for _, f := range fs {
					if values[f.Dimension] == nil {
						values[f.Dimension] = map[string]bool{}
					}
					values[f.Dimension][f.Value] = true
					if f.Dimension == facts.Version {
						versionsSeen[f.Value] = true
					}
				}
			}
			if !active {
				continue
			}
			w := want[kinds[client]]
			if w == nil {
				w = &Counts{Values: map[string]map[string]int{}, Covered: map[string]int{}}
				want[kinds[client]] = w
			}
			w.Active++
			// node_number: the largest size; the others: every value.
			if ns := values[facts.NodeNumber]; len(ns) > 0 {
				largest := ""
				for n := range ns {
					if largest == "" || n > largest { // one digit: text order is numeric order
						largest = n
					}
				}
				values[facts.NodeNumber] = map[string]bool{largest: true}
			}
			for dim, vs := range values {
				if w.Values[dim] == nil {
					w.Values[dim] = map[string]int{}
				}
				for v := range vs {
					w.Values[dim][v]++
				}
				w.Covered[dim]++
			}
			// A module or TLS is covered even when absent, if a version
			// could report it: 6.4.0 and 6.5.0 cannot report TLS.
			for _, dim := range []string{facts.Module, facts.HTTPAPI, facts.Transport, facts.TLS, facts.Pool} {
				if len(values[dim]) > 0 {
					continue
				}
				could := false
				for v := range versionsSeen {
					switch dim {
					case facts.TLS:
						could = could || v == "6.3.1" || v == "3.6.0"
					case facts.Pool:
						could = could || v != "3.6.0"
					default:
						could = true
					}
				}
				if could {
					w.Covered[dim]++
				}
			}
		}
		if !reflect.DeepEqual(got, want) {
			for k := range want {
				t.Logf("%s: got %+v\nwant %+v", k, got[k], want[k])
			}
			t.Fatalf("round %d (days %d-%d, version %s): counts differ", round, from, to, version)
		}
	}
}

// Weekly counts each ISO week on its own, the partial first and last weeks
// included, and a week's count equals Count over that week.
func TestWeeklyIsCountPerWeek(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	set, _, _ := randomSet(rng)
	from, to := day(3), day(40) // 2026-01-04 is a Sunday
	weeks := Weekly(set, from, to, facts.AllVersions, facts.Version)
	if len(weeks) == 0 || !weeks[0].Monday.Equal(day(-3)) || !weeks[0].From.Equal(from) || !weeks[0].To.Equal(day(3)) {
		t.Fatalf("first week %+v: want Monday 2025-12-29, days 2026-01-04 to 2026-01-04", weeks[0])
	}
	for _, w := range weeks {
		if w.Monday.Weekday() != time.Monday {
			t.Errorf("week of %s does not start on a Monday", w.Monday)
		}
		all := Count(set, Query{From: w.From, To: w.To, Version: facts.AllVersions})
		for kind, c := range all {
			got := w.Counts[kind]
			if got == nil || got.Active != c.Active || !reflect.DeepEqual(got.Values[facts.Version], c.Values[facts.Version]) {
				t.Errorf("week %s %s: weekly %+v, Count %+v", w.Monday.Format(time.DateOnly), kind, got, c)
			}
		}
	}
	if last := weeks[len(weeks)-1]; !last.To.Equal(to) {
		t.Errorf("last week ends %s, want %s", last.To, to)
	}
}

// A dimension facts has no spec of (a metric added before its rule) is
// counted each value, covered by the clusters that stated one: counted by
// Count, and by Weekly when asked for.
func TestDimensionWithoutSpec(t *testing.T) {
	const dim = "made_up_queue"
	set := store.RunSet{Profiles: map[int64][]facts.Fact{
		1: {{Dimension: facts.Version, Value: "6.5.0"}, {Dimension: dim, Value: "1-10"}},
		2: {{Dimension: facts.Version, Value: "6.5.0"}, {Dimension: dim, Value: "1-10"}, {Dimension: dim, Value: "11+"}},
		3: {{Dimension: facts.Version, Value: "6.2.1"}},
	}, Runs: []store.Run{
		{Property: "P", ClientID: "a", Kind: store.Production, First: day(0), Last: day(3), Profile: 1},
		{Property: "P", ClientID: "a", Kind: store.Production, First: day(4), Last: day(5), Profile: 2},
		{Property: "P", ClientID: "b", Kind: store.Production, First: day(0), Last: day(5), Profile: 1},
		{Property: "P", ClientID: "c", Kind: store.Production, First: day(0), Last: day(5), Profile: 3},
	}}
	c := Count(set, Query{From: day(0), To: day(6)})[store.Production]
	if c.Active != 3 || c.Covered[dim] != 2 || c.Value(dim, "1-10") != 2 || c.Value(dim, "11+") != 1 {
		t.Errorf("counts %+v: want 3 active, 2 covered, 2 under 1-10 and 1 under 11+", c)
	}
	w := Weekly(set, day(0), day(6), "", dim)
	var under11 int
	for _, week := range w {
		under11 = max(under11, week.Counts[store.Production].Value(dim, "11+"))
	}
	if under11 != 1 {
		t.Errorf("weeks %+v: want a week with 1 cluster under 11+", w)
	}
	if w := Weekly(set, day(0), day(6), "", facts.Module); w[0].Counts[store.Production].Values[dim] != nil {
		t.Errorf("Weekly of another dimension counted %s", dim)
	}
}
