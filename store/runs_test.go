package store_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

// The runs say, for every cluster and day, exactly the profile its counted
// reports of that day make, whatever the order the days are rolled up in,
// however often, and with reports arriving between the roll-ups.
func TestRunsMatchTheReportedDays(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		rng := rand.New(rand.NewPCG(7, 21))
		const clusters, days = 12, 20
		// truth[cluster][day]: the modules the cluster's nodes reported
		// that day, and its largest node count.
		type dayTruth struct {
			modules map[string]bool
			nodes   int
		}
		truth := map[string]map[int]*dayTruth{}
		modules := []string{"mod_mam", "mod_muc", "mod_vcard"}
		send := func(client string, day int) {
			nodes := 1 + rng.IntN(3)
			mod := modules[rng.IntN(len(modules))]
			if rng.IntN(4) == 0 { // a stable cluster mostly
				mod = modules[0]
			}
			b := batch(at(day, 1+rng.IntN(20)), "G-PROD", store.Production, client,
				clusterEv("6.5.0", nodes), ev("module_with_opt", "module", mod, "backend", "rdbms"))
			add(t, s, b)
			if truth[client] == nil {
				truth[client] = map[int]*dayTruth{}
			}
			dt := truth[client][day]
			if dt == nil {
				dt = &dayTruth{modules: map[string]bool{}}
				truth[client][day] = dt
			}
			dt.modules[mod] = true
			dt.nodes = max(dt.nodes, nodes)
		}
		for c := range clusters {
			client := fmt.Sprintf("c%02d", c)
			for d := range days {
				if c%3 == 0 && rng.IntN(2) == 0 {
					continue // a cluster that reports some days only
				}
				send(client, d)
			}
		}
		rollUpAll := func() {
			t.Helper()
			pending, err := s.DaysToRollUp(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			rng.Shuffle(len(pending), func(i, j int) { pending[i], pending[j] = pending[j], pending[i] })
			for _, d := range pending {
				if err := s.RollUp(ctxT(t), d); err != nil {
					t.Fatal(err)
				}
			}
		}
		rollUpAll()
		// More reports of days already rolled up (a second node, an import),
		// some changing the day's profile, and a day rolled up twice.
		for range 25 {
			send(fmt.Sprintf("c%02d", rng.IntN(clusters)), rng.IntN(days))
		}
		rollUpAll()
		if err := s.RollUp(ctxT(t), at(5, 0)); err != nil {
			t.Fatal(err)
		}

		set, err := s.Runs(ctxT(t), at(0, 0), at(days-1, 0))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]map[int]string{}
		for i, r := range set.Runs {
			if i > 0 {
				prev := set.Runs[i-1]
				if prev.ClientID == r.ClientID && !prev.Last.Before(r.First) {
					t.Fatalf("runs overlap: %+v and %+v", prev, r)
				}
				if prev.ClientID == r.ClientID && prev.Profile == r.Profile && prev.Last.AddDate(0, 0, 1).Equal(r.First) {
					t.Errorf("runs %+v and %+v should be one", prev, r)
				}
			}
			for d := r.First; !d.After(r.Last); d = d.AddDate(0, 0, 1) {
				if got[r.ClientID] == nil {
					got[r.ClientID] = map[int]string{}
				}
				got[r.ClientID][int(d.Sub(at(0, 0)).Hours()/24)] = profileString(set.Profiles[r.Profile])
			}
		}
		for client, byDay := range truth {
			for day, dt := range byDay {
				var want []string
				for m := range dt.modules {
					want = append(want, "module="+m, "module_backend="+m+"/rdbms")
				}
				want = append(want, "components=0", "config_type=toml", fmt.Sprintf("node_number=%d", dt.nodes), "version=6.5.0")
				slices.Sort(want)
				if g := got[client][day]; g != strings.Join(want, " ") {
					t.Errorf("%s day %d: runs say %q, want %q", client, day, g, strings.Join(want, " "))
				}
				delete(got[client], day)
			}
		}
		for client, byDay := range got {
			for day := range byDay {
				t.Errorf("%s day %d: in a run, but it sent nothing that day", client, day)
			}
		}
		// The raw retention deletes facts, not runs: a day rolled up again
		// without its facts keeps its runs.
		for {
			n, err := s.DeleteBefore(ctxT(t), at(days, 0), 10_000)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		if err := s.RollUp(ctxT(t), at(3, 0)); err != nil {
			t.Fatal(err)
		}
		after, err := s.Runs(ctxT(t), at(0, 0), at(days-1, 0))
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(after.Runs) != fmt.Sprint(set.Runs) {
			t.Errorf("the runs changed when the raw events were deleted:\n%v\n%v", set.Runs, after.Runs)
		}
		// A period reads only the runs that overlap it.
		part, err := s.Runs(ctxT(t), at(3, 0), at(4, 0))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range part.Runs {
			if r.Last.Before(at(3, 0)) || r.First.After(at(4, 0)) {
				t.Errorf("run %+v is outside the period", r)
			}
		}
	})
}

// An uncounted batch (a source address over its cap) is in no run.
func TestRunsLeaveOutUncounted(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		b := batch(at(0, 3), "G-PROD", store.Production, "U", clusterEv("6.5.0", 1))
		b.Counted = false
		add(t, s, b)
		add(t, s, batch(at(0, 3), "G-PROD", store.Production, "C", clusterEv("6.5.0", 1)))
		if err := s.RollUp(ctxT(t), at(0, 0)); err != nil {
			t.Fatal(err)
		}
		set, err := s.Runs(ctxT(t), at(0, 0), at(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		if len(set.Runs) != 1 || set.Runs[0].ClientID != "C" {
			t.Fatalf("runs %+v, want only C's", set.Runs)
		}
		// The admin view says which cluster was not counted on which day.
		b2 := batch(at(1, 3), "G-CI", store.CI, "U2", clusterEv("6.5.0", 1))
		b2.Counted = false
		add(t, s, b2)
		add(t, s, b2) // another batch of that day: one row
		got, err := s.Uncounted(ctxT(t), at(0, 0), at(1, 0))
		if err != nil {
			t.Fatal(err)
		}
		want := []store.Uncounted{{Day: at(0, 0), Property: "G-PROD", ClientID: "U"}, {Day: at(1, 0), Property: "G-CI", ClientID: "U2"}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Uncounted: %+v, want %+v", got, want)
		}
		if got, _ := s.Uncounted(ctxT(t), at(1, 0), at(1, 0)); len(got) != 1 {
			t.Errorf("Uncounted of day 1 alone: %+v", got)
		}
	})
}

func profileString(fs []facts.Fact) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, f.Dimension+"="+f.Value)
	}
	return strings.Join(parts, " ")
}
