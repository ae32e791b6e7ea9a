package disclosure

import (
	"fmt"
	"testing"
)

// compositions calls fn with every way of writing total as n counts.
func compositions(total int64, n int, fn func([]int64)) {
	v := make([]int64, n)
	var rec func(i int, left int64)
	rec = func(i int, left int64) {
		if i == n-1 {
			v[i] = left
			fn(v)
			return
		}
		for x := int64(0); x <= left; x++ {
			v[i] = x
			rec(i+1, left-x)
		}
	}
	rec(0, total)
}

func table(v []int64, other []bool) Table {
	t := Table{Partition: true}
	for i, n := range v {
		t.Cells = append(t.Cells, Cell{N: n, Other: other[i]})
		t.Total += n
	}
	return t
}

func published(r Result, v []int64) string {
	s := fmt.Sprint(r.TotalHidden)
	for i, verdict := range r.Cells {
		if verdict == Shown {
			s += fmt.Sprintf(" %d", v[i])
		} else {
			s += fmt.Sprintf(" v%d", verdict)
		}
	}
	return s
}

// An attacker who knows the rule, the table's shape and total and what is
// published, and tries every table that would publish the same, cannot
// pin down any hidden cell: each one has at least two possible counts, and
// a rare one could be anything from 1 to K-1.
func TestNoHiddenCellCanBeWorkedOut(t *testing.T) {
	shapes := [][]bool{
		{false, false},
		{false, false, false},
		{false, false, false, false},
		{false, false, true},
		{false, false, false, true},
		{false, false, false, false, false},
		{false, false, false, false, true},
	}
	for _, k := range []int64{3, 4, 5} {
		for _, other := range shapes {
			for total := int64(0); total <= 4*k; total++ {
				// Every table of this shape and total, by what it publishes.
				byPublished := map[string][][]int64{}
				compositions(total, len(other), func(v []int64) {
					key := published(Protect(table(v, other), k), v)
					byPublished[key] = append(byPublished[key], append([]int64(nil), v...))
				})
				for key, tables := range byPublished {
					r := Protect(table(tables[0], other), k)
					if r.TotalHidden {
						continue // nothing but "fewer than K" is shown
					}
					for i, verdict := range r.Cells {
						if verdict == Shown {
							continue
						}
						possible := map[int64]bool{}
						for _, v := range tables {
							possible[v[i]] = true
						}
						if len(possible) < 2 {
							t.Errorf("K=%d, shape %v, total %d: published %q pins cell %d at %v", k, other, total, key, i, tables[0][i])
						}
						if verdict == Rare {
							for n := int64(1); n < k; n++ {
								if !possible[n] {
									t.Errorf("K=%d, shape %v, total %d: published %q: rare cell %d cannot be %d (it could be %v)", k, other, total, key, i, n, possible)
								}
							}
						}
					}
				}
			}
		}
	}
}

func TestVerdicts(t *testing.T) {
	cases := []struct {
		name string
		t    Table
		k    int64
		want []Verdict
		hide bool
	}{
		{"nothing rare", Table{Cells: []Cell{{N: 10}, {N: 0}, {N: 7}}, Total: 17, Partition: true}, 5, []Verdict{Shown, Shown, Shown}, false},
		{"a known zero stays zero", Table{Cells: []Cell{{N: 30}, {N: 0}, {N: 2}, {N: 20}}, Total: 52, Partition: true}, 5,
			[]Verdict{Shown, Shown, Rare, Withheld}, false},
		{"not a partition: rare cells only", Table{Cells: []Cell{{N: 30}, {N: 2}, {N: 6}}, Total: 40}, 5, []Verdict{Shown, Rare, Shown}, false},
		{"a small total hides all", Table{Cells: []Cell{{N: 3}, {N: 1}}, Total: 4, Partition: true}, 5, []Verdict{Withheld, Withheld}, true},
		{"other is never shown", Table{Cells: []Cell{{N: 40}, {N: 9, Other: true}}, Total: 49}, 5, []Verdict{Shown, Withheld}, false},
		{"K below 3 protects as 3", Table{Cells: []Cell{{N: 40}, {N: 2}}, Total: 42}, 1, []Verdict{Shown, Rare}, false},
	}
	for _, c := range cases {
		r := Protect(c.t, c.k)
		if fmt.Sprint(r.Cells) != fmt.Sprint(c.want) || r.TotalHidden != c.hide {
			t.Errorf("%s: %v (total hidden %v), want %v (%v)", c.name, r.Cells, r.TotalHidden, c.want, c.hide)
		}
	}
}
