package dashboard

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Axes people can read: value ticks at round numbers (1, 2 or 5 times a
// power of ten), whole numbers for counts of clusters, and dates at
// regular intervals (every day, every other day, every Monday, every other
// Monday, the first of every month or quarter).

// niceTicks returns the ticks of an axis from 0 to at least most, at most
// about n+1 of them, at a round step; integer: the step is a whole number.
// The last tick is the axis' top.
func niceTicks(most float64, n int, integer bool) []float64 {
	if n < 1 {
		n = 1
	}
	if most <= 0 || math.IsNaN(most) || math.IsInf(most, 0) {
		most = 1
	}
	raw := most / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m == 2.5 && integer && mag < 10 {
			continue // 2.5 is not a whole step below 25
		}
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	if integer && step < 1 {
		step = 1
	}
	top := math.Ceil(most/step-1e-9) * step
	var ticks []float64
	for i := 0; ; i++ {
		v := round(float64(i)*step, 9)
		ticks = append(ticks, v)
		if v >= top-1e-9 || i > 100 {
			break
		}
	}
	return ticks
}

// tickLabel writes a tick: a percentage for shares, else a number with k
// or M for thousands and millions ("250k", "1.5M").
func tickLabel(v float64, percentage bool) string {
	if percentage {
		return trimFloat(v*100) + " %"
	}
	switch {
	case math.Abs(v) >= 1e6:
		return trimFloat(v/1e6) + "M"
	case math.Abs(v) >= 1e4:
		return trimFloat(v/1e3) + "k"
	}
	return trimFloat(v)
}

// trimFloat writes v with at most two decimals, none when whole.
func trimFloat(v float64) string {
	s := strconv.FormatFloat(round(v, 2), 'f', 2, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// dateTicks picks the days (dates as "2006-01-02", oldest first, one per
// day or one per ISO week) to label: at a regular interval, at most max of
// them. Weekly and multi-day steps fall on Mondays, monthly steps on the
// first Monday (weekly points) or the first day of the month.
func dateTicks(days []string, maxLabels int, weekly bool) []int {
	if len(days) == 0 {
		return nil
	}
	if maxLabels < 2 {
		maxLabels = 2
	}
	parsed := make([]time.Time, len(days))
	for i, d := range days {
		t, err := time.Parse(time.DateOnly, d)
		if err != nil {
			return []int{0, len(days) - 1}
		}
		parsed[i] = t
	}
	span := parsed[len(parsed)-1].Sub(parsed[0]).Hours()/24 + 1
	type rule struct {
		days  float64 // the interval's length, for the count
		match func(t time.Time, i int) bool
	}
	everyNth := func(n int) func(time.Time, int) bool {
		return func(_ time.Time, i int) bool { return i%n == 0 }
	}
	mondays := func(n int) func(time.Time, int) bool {
		return func(t time.Time, _ int) bool {
			return t.Weekday() == time.Monday && (int(t.Unix()/86400)/7)%n == 0
		}
	}
	monthly := func(months int) func(time.Time, int) bool {
		return func(t time.Time, _ int) bool {
			first := t.Day() == 1
			if weekly {
				first = t.Day() <= 7
			}
			return first && (int(t.Month())-1)%months == 0
		}
	}
	var rules []rule
	if !weekly {
		rules = append(rules, rule{1, everyNth(1)}, rule{2, everyNth(2)})
	}
	rules = append(rules, rule{7, mondays(1)}, rule{14, mondays(2)}, rule{30, monthly(1)},
		rule{61, monthly(2)}, rule{91, monthly(3)}, rule{182, monthly(6)}, rule{365, monthly(12)})
	for _, r := range rules {
		if span/r.days > float64(maxLabels) {
			continue
		}
		var out []int
		for i, t := range parsed {
			if r.match(t, i) {
				out = append(out, i)
			}
		}
		if len(out) > 0 && len(out) <= maxLabels {
			return out
		}
	}
	return []int{0}
}

// shortDay writes a tick's date: "Mar 2"; the first week of a year by its
// year ("2027"). The chart's period, with years, is written above it.
func shortDay(d string) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return d
	}
	if t.Month() == time.January && t.Day() <= 7 {
		return t.Format("2006")
	}
	return t.Format("Jan 2")
}
