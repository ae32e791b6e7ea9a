package receiver

import (
	"net/netip"
	"strconv"
	"testing"
	"time"
)

// A full limiter forgets the least recently used keys that are not
// limited, stays within its size, and never gives a limited key a fresh
// bucket, however many new keys come.
func TestKeyedLimiterEvictsLRUNotLimited(t *testing.T) {
	now := testNow
	k := newKeyedLimiter(Limit{Rate: 0.001, Burst: 3}, 100)
	for range 3 {
		k.allow("limited", now)
	}
	if k.allow("limited", now) {
		t.Fatal("the 4th request of a burst of 3 passed")
	}
	k.allow("old", now)
	for i := range 1000 {
		now = now.Add(time.Millisecond)
		k.allow("flood-"+strconv.Itoa(i), now)
		if i%10 == 0 { // the limited client keeps trying, and stays refused
			if k.allow("limited", now) {
				t.Fatalf("the limited key got a fresh bucket after %d new keys", i+1)
			}
		}
	}
	if k.size() > 100 {
		t.Errorf("%d keys kept, more than 100", k.size())
	}
	if k.peek("old") != nil {
		t.Error("the least recently used key that is not limited is still kept")
	}
	// Even a limited key that stops trying is not forgotten while it is
	// limited.
	k2 := newKeyedLimiter(Limit{Rate: 0.001, Burst: 1}, 20)
	k2.allow("quiet-limited", now)
	for i := range 200 {
		k2.allow("flood-"+strconv.Itoa(i), now)
	}
	if k2.allow("quiet-limited", now) {
		t.Error("a limited key that stopped trying was forgotten by a flood")
	}
	if k2.size() > 20 {
		t.Errorf("%d keys kept, more than 20", k2.size())
	}
}

// The cluster cap is kept per property, and a property may have its own.
func TestClusterCapPerProperty(t *testing.T) {
	c := newClusterCounter(2, map[string]int{"G-CI": 5}, 0)
	addr := netip.MustParsePrefix("198.51.100.7/32")
	counted := func(prop string, n int) int {
		got := 0
		for i := range n {
			if c.counted(prop, addr, prop+"-"+strconv.Itoa(i), testNow) {
				got++
			}
		}
		return got
	}
	if got := counted("G-PROD", 4); got != 2 {
		t.Errorf("production: %d of 4 clusters from one address counted, want 2", got)
	}
	if got := counted("G-OTHER", 4); got != 2 {
		t.Errorf("another property from the same address: %d counted, want its own 2", got)
	}
	if got := counted("G-CI", 8); got != 5 {
		t.Errorf("CI with its own cap: %d counted, want 5", got)
	}
	if !c.counted("G-PROD", addr, "G-PROD-0", testNow) {
		t.Error("a counted cluster's next batch is not counted")
	}
}
