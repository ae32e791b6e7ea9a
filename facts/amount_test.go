package facts

import (
	"math"
	"testing"

	"github.com/mim-metrics/mim-metrics/contract"
)

func TestAddAmountsSaturates(t *testing.T) {
	tests := []struct{ a, b, want int64 }{
		{1, 2, 3},
		{-5, 3, -2},
		{math.MaxInt64, 1, math.MaxInt64},
		{math.MaxInt64 - 1, math.MaxInt64 - 1, math.MaxInt64},
		{math.MinInt64, -1, math.MinInt64},
		{math.MinInt64 + 1, math.MinInt64, math.MinInt64},
		{math.MaxInt64, math.MinInt64, -1},
	}
	for _, tc := range tests {
		if got := AddAmounts(tc.a, tc.b); got != tc.want {
			t.Errorf("AddAmounts(%d, %d) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// Stanza increments, each the largest a node can report, whose sum is
// beyond int64 stay at the limit in one batch's facts.
func TestFromEventsSumsSaturate(t *testing.T) {
	largest := int64(-1)
	for _, e := range contract.Catalog() {
		if e.Name == contract.XMPPStanzaCount {
			largest = e.Ranges["increment"].Max
		}
	}
	var evs []contract.Event
	for range math.MaxInt64/largest + 2 {
		evs = append(evs, contract.Event{Name: contract.XMPPStanzaCount,
			Params: map[string]any{"stanza_type": "xmppMessageSent", "total": int64(1), "increment": largest}})
	}
	fs := FromEvents(evs, "")
	if len(fs) == 0 {
		t.Fatal("no facts")
	}
	for _, f := range fs {
		if f.Dimension == Stanza && f.Amount != math.MaxInt64 {
			t.Errorf("%s=%s: amount %d, want the int64 limit", f.Dimension, f.Value, f.Amount)
		}
	}
}
