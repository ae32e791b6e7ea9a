// Package disclosure decides which numbers of a table the public view may
// show, so that no count of fewer than K clusters can be read or worked
// out from what is shown: not from a cell, not by subtracting the shown
// cells from a shown total, not from an "other" that stands for a few
// values.
//
// The rule, for one table of cell counts and its total (the denominator,
// which the page shows):
//
//  1. A total below K: every cell is withheld, and the total is shown as
//     "fewer than K".
//  2. A cell of 1 to K-1 clusters is rare: shown as "fewer than K", by its
//     name when the value is known, else within "other" (never counted).
//     A zero stays zero: that nobody reported a known value is a finding.
//  3. In a table whose cells add up to its total (a partition: buckets, a
//     module's backends, "not reported" beside the values), rare cells
//     could be worked out by subtraction. So when there is one, more cells
//     are withheld, smallest first, until the hidden cells hold at least K
//     clusters more than the least they could hold (their slack), and each
//     hidden cell has another one beside it without an upper bound (rare
//     cells hold at most K-1). Then no hidden cell has a single possible
//     value. If that cannot be reached, every cell of the table is
//     withheld, zeros too (their places would tell how many cells share
//     the total).
//
// K must be 3 or more: "fewer than 2" would say "1".
package disclosure

import "strconv"

// Verdict is what the public view shows of a cell.
type Verdict int

const (
	// Shown: the exact count.
	Shown Verdict = iota
	// Rare: "fewer than K".
	Rare
	// Withheld: not shown, so that a rare cell cannot be worked out.
	Withheld
)

// Cell is one count of a table.
type Cell struct {
	N int64
	// Other: the cell stands for values that are never named or counted in
	// public (rare values of no known name); it is always hidden.
	Other bool
}

// Table is one table's cells and its total.
type Table struct {
	Cells []Cell
	Total int64
	// Partition: the cells add up to the total, or could be assumed to.
	Partition bool
}

// Result is what may be shown of a table.
type Result struct {
	Cells []Verdict
	// TotalHidden: the total is below K (shown as "fewer than K").
	TotalHidden bool
}

// MinK is the smallest threshold the rule protects with.
const MinK = 3

// Protect applies the rule with threshold k (raised to MinK).
func Protect(t Table, k int64) Result {
	k = max(k, MinK)
	out := Result{Cells: make([]Verdict, len(t.Cells))}
	if t.Total > 0 && t.Total < k {
		out.TotalHidden = true
		for i := range out.Cells {
			out.Cells[i] = Withheld
		}
		return out
	}
	rare := false
	for i, c := range t.Cells {
		switch {
		case c.Other && c.N > 0:
			out.Cells[i] = Withheld
			rare = true // as open to subtraction as a rare cell
		case c.N > 0 && c.N < k:
			out.Cells[i] = Rare
			rare = true
		}
	}
	if !rare || !t.Partition {
		return out
	}
	// Withhold shown cells from the table's end (its least used values,
	// usually; an order by size would tell that a withheld cell is smaller
	// than the shown ones) until the hidden ones are safe.
	for i := len(out.Cells) - 1; i >= 0; i-- {
		if safe(t, out.Cells, k) {
			return out
		}
		if out.Cells[i] == Shown && t.Cells[i].N > 0 {
			out.Cells[i] = Withheld
		}
	}
	if safe(t, out.Cells, k) {
		return out
	}
	// Nothing can be shown: not even the zeros, whose places would tell
	// how many cells share the total.
	for i := range out.Cells {
		out.Cells[i] = Withheld
	}
	return out
}

// safe says whether the hidden cells' sum exceeds the least they could
// hold by k, and each hidden cell has another one beside it that no bound
// pins (a withheld cell; a rare one holds at most k-1): its count can then
// be lower or higher by one at least.
func safe(t Table, verdicts []Verdict, k int64) bool {
	var sum, least int64
	var rare, unbounded int
	for i, v := range verdicts {
		switch v {
		case Rare:
			sum += t.Cells[i].N
			least++
			rare++
		case Withheld:
			sum += t.Cells[i].N
			if t.Cells[i].Other {
				least++
			} else {
				least += k
			}
			unbounded++
		}
	}
	return (unbounded >= 2 || unbounded == 1 && rare >= 1) && sum-least >= k
}

// Explain says the rule in words, for the methodology page.
func Explain(k int64) []string {
	k = max(k, MinK)
	n := func(x int64) string { return strconv.FormatInt(x, 10) }
	return []string{
		"A count of 1 to " + n(k-1) + " clusters is shown as “fewer than " + n(k) + " clusters”: a known value keeps its name, a value of no known name goes into “other”, which is never counted.",
		"A zero stays zero: that no cluster reported a known value is a finding (unless the table is too small to show any of its numbers).",
		"When a chart's clusters are fewer than " + n(k) + ", none of its numbers is shown.",
		"Where a chart's values add up to its clusters (buckets with their “not reported”, a module's backends, the versions of a week, new and returning clusters of a day), a small count could be worked out by subtracting the others from the total. So more values are “withheld”, from the chart's end, until the hidden ones together hold at least " + n(k) + " clusters more than the least they could, and none of them could have only one count.",
		"Where “not reported” would be small, it is not shown, and the shares are of all active clusters instead of those that could report the value.",
		"The version filter is for the admin view: one version's numbers beside those of all versions could be subtracted.",
		"What the rule does not cover: the same value's counts over two periods (30 and 90 days) are each protected, not their difference, which says how many clusters stopped reporting it.",
	}
}
