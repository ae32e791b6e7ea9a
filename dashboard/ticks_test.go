package dashboard

import (
	"slices"
	"testing"
	"time"
)

func TestNiceTicks(t *testing.T) {
	for _, c := range []struct {
		most    float64
		n       int
		integer bool
		want    []float64
	}{
		{274, 5, true, []float64{0, 100, 200, 300}},
		{137, 5, true, []float64{0, 50, 100, 150}},
		{0.14, 5, false, []float64{0, 0.05, 0.1, 0.15}},
		{3, 5, true, []float64{0, 1, 2, 3}},
		{1, 4, false, []float64{0, 0.25, 0.5, 0.75, 1}},
		{112874, 4, true, []float64{0, 50000, 100000, 150000}},
		{0, 4, true, []float64{0, 1}},
	} {
		if got := niceTicks(c.most, c.n, c.integer); !slices.Equal(got, c.want) {
			t.Errorf("niceTicks(%v, %d, %v) = %v, want %v", c.most, c.n, c.integer, got, c.want)
		}
	}
	for v, want := range map[float64]string{150000: "150k", 2500000: "2.5M", 250: "250", 0: "0"} {
		if got := tickLabel(v, false); got != want {
			t.Errorf("tickLabel(%v) = %q, want %q", v, got, want)
		}
	}
	if got := tickLabel(0.05, true); got != "5 %" {
		t.Errorf("share tick %q", got)
	}
}

func TestDateTicksRegular(t *testing.T) {
	days := func(from string, n, step int) []string {
		d, _ := time.Parse(time.DateOnly, from)
		var out []string
		for i := 0; i < n; i++ {
			out = append(out, dayKey(d.AddDate(0, 0, i*step)))
		}
		return out
	}
	for _, c := range []struct {
		name   string
		days   []string
		max    int
		weekly bool
	}{
		{"30 days", days("2026-11-05", 30, 1), 7, false},
		{"90 days", days("2026-09-06", 90, 1), 7, false},
		{"365 days", days("2025-12-05", 365, 1), 7, false},
		{"a year of weeks", days("2025-12-01", 53, 7), 7, true},
		{"a phone's 30 days", days("2026-11-05", 30, 1), 3, false},
	} {
		idx := dateTicks(c.days, c.max, c.weekly)
		if len(idx) < 2 || len(idx) > c.max {
			t.Errorf("%s: %d labels %v, want 2 to %d", c.name, len(idx), idx, c.max)
			continue
		}
		// Regular: the same number of days apart (months: 28 to 31 days
		// apart per month).
		gap := func(i int) float64 {
			a, _ := time.Parse(time.DateOnly, c.days[idx[i]])
			b, _ := time.Parse(time.DateOnly, c.days[idx[i+1]])
			return b.Sub(a).Hours() / 24
		}
		for i := 1; i+1 < len(idx); i++ {
			if g0, g := gap(0), gap(i); g != g0 && (g0 < 28 || g > g0*1.15 || g < g0*0.9) {
				t.Errorf("%s: labels %v not at a regular interval (%v then %v days)", c.name, idx, g0, g)
				break
			}
		}
	}
}
