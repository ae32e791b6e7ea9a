package testkit

import (
	"testing"
	"time"
)

func fired(tm Timer) bool {
	select {
	case <-tm.C():
		return true
	default:
		return false
	}
}

// TestManualClock: a timer fires once the clock passes it, once; a
// stopped one does not; Reset arms it again; WaitArmed sees each arming.
func TestManualClock(t *testing.T) {
	start := time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC)
	c := NewManualClock[Timer](start)
	tm := c.NewTimer(time.Hour)
	c.WaitArmed(t)
	c.Advance(59 * time.Minute)
	if fired(tm) {
		t.Fatal("fired a minute early")
	}
	c.Advance(time.Minute)
	if !fired(tm) {
		t.Fatal("did not fire on time")
	}
	c.Advance(time.Hour)
	if fired(tm) {
		t.Fatal("fired twice")
	}
	tm.Reset(time.Minute)
	c.WaitArmed(t)
	tm.Stop()
	c.Advance(time.Hour)
	if fired(tm) {
		t.Fatal("a stopped timer fired")
	}
	if got, want := c.Now(), start.Add(3*time.Hour); !got.Equal(want) {
		t.Errorf("Now %v, want %v", got, want)
	}
	c.Set(start)
	if !c.Now().Equal(start) {
		t.Errorf("Set: Now %v, want %v", c.Now(), start)
	}
	tm.Reset(0)
	if !fired(tm) {
		t.Error("a timer of 0 did not fire at once")
	}
}

// TestManualClockTimerType: a Timer the clock's timers do not satisfy is
// refused at once, not at the first NewTimer.
func TestManualClockTimerType(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewManualClock[int] did not panic")
		}
	}()
	NewManualClock[int](time.Now())
}
