package testkit

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

// ManualClock is a clock that moves only when a test says (Advance, Set);
// its timers fire when the clock passes them. T is the timer interface
// NewTimer returns: with reporting.Timer the clock is a reporting.Clock
// (this package imports none of the packages it serves); Timer for a user
// that declares none.
type ManualClock[T any] struct {
	mu     sync.Mutex
	now    time.Time
	timers []*manualTimer[T]
	armed  int           // timers armed (NewTimer or Reset) so far
	waited int           // of those, the ones WaitArmed has seen
	signal chan struct{} // a token when a timer is armed
}

// NewManualClock returns a manual clock at start. T must be an interface
// that Timer's methods satisfy.
func NewManualClock[T any](start time.Time) *ManualClock[T] {
	if _, ok := any(&manualTimer[T]{}).(T); !ok {
		panic(fmt.Sprintf("testkit.NewManualClock: its timers are no %v", reflect.TypeFor[T]()))
	}
	return &ManualClock[T]{now: start, signal: make(chan struct{}, 1)}
}

// Now returns the clock's time.
func (c *ManualClock[T]) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer that fires once the clock has moved d on.
func (c *ManualClock[T]) NewTimer(d time.Duration) T {
	t := &manualTimer[T]{c: c, ch: make(chan time.Time, 1)}
	c.mu.Lock()
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	t.Reset(d)
	return any(t).(T)
}

// Advance moves the clock by d and fires the timers that are due.
func (c *ManualClock[T]) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(c.now.Add(d))
}

// Set moves the clock to at and fires the timers that are due.
func (c *ManualClock[T]) Set(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(at)
}

func (c *ManualClock[T]) setLocked(at time.Time) {
	c.now = at
	for _, t := range c.timers {
		t.fireIfDueLocked()
	}
}

// WaitArmed waits (at most 5 s) until a timer has been armed, by NewTimer
// or Reset, since the last WaitArmed: that the code under test is waiting
// on the clock.
func (c *ManualClock[T]) WaitArmed(t testing.TB) {
	t.Helper()
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		if c.waited < c.armed {
			c.waited++
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		select {
		case <-c.signal:
		case <-deadline.C:
			t.Fatal("no timer was armed within 5 s")
		}
	}
}

// Timer is the methods of a ManualClock's timers.
type Timer interface {
	// C delivers the clock's time when the timer fires.
	C() <-chan time.Time
	// Reset arms the timer to fire once the clock has moved d on.
	Reset(d time.Duration)
	// Stop disarms the timer.
	Stop()
}

type manualTimer[T any] struct {
	c      *ManualClock[T]
	ch     chan time.Time
	at     time.Time
	active bool
}

// C delivers the clock's time when the timer fires.
func (t *manualTimer[T]) C() <-chan time.Time { return t.ch }

// Reset arms the timer to fire once the clock has moved d on.
func (t *manualTimer[T]) Reset(d time.Duration) {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.at, t.active = t.c.now.Add(d), true
	t.c.armed++
	select {
	case t.c.signal <- struct{}{}:
	default:
	}
	t.fireIfDueLocked()
}

// Stop disarms the timer.
func (t *manualTimer[T]) Stop() {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.active = false
}

// fireIfDueLocked sends the clock's time once the timer is due (the
// clock's lock held); a time nobody took is not sent twice.
func (t *manualTimer[T]) fireIfDueLocked() {
	if t.active && !t.at.After(t.c.now) {
		t.active = false
		select {
		case t.ch <- t.c.now:
		default:
		}
	}
}
