package receiver

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/mim-metrics/mim-metrics/store"
)

// failingDay is a real store whose roll-up of one day fails (a fault
// injected at the Store interface: what a poisoned day did).
type failingDay struct {
	store.Store
	mu    sync.Mutex
	day   time.Time
	tries int
}

func (f *failingDay) RollUp(ctx context.Context, day time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if day.Equal(f.day) {
		f.tries++
		return errors.New("injected roll-up failure")
	}
	return f.Store.RollUp(ctx, day)
}

// A day whose roll-up fails holds back no later day, is retried with a
// back-off, is logged once when it starts failing and once when it works
// again, and is counted in the ingest health.
func TestRollUpFailureHoldsBackNoDay(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	days := []time.Time{testNow.AddDate(0, 0, -2), testNow.AddDate(0, 0, -1), testNow}
	for i, d := range days {
		_, err := e.st.AddBatch(ctx, store.Batch{Received: d, Property: testGA4ID, Kind: store.Production,
			ClientID: "c" + string(rune('a'+i)), Counted: true, Events: goldenReports(t)["mim-6.2.1"][:3]})
		if err != nil {
			t.Fatal(err)
		}
	}
	bad := &failingDay{Store: e.st, day: store.Day(days[0])}
	core, logs := observer.New(zap.InfoLevel)
	now := testNow
	var failed []time.Time
	j := &Jobs{Store: bad, Now: func() time.Time { return now }, Log: zap.New(core),
		RollUpFailed: func(d time.Time) { failed = append(failed, d); e.rc.CountRollUpFailure(d) }}
	if err := j.RunOnce(ctx); err == nil {
		t.Fatal("RunOnce hides the failing day")
	}
	for range 4 { // more runs in the first minute: no try
		if err := j.RunOnce(ctx); err != nil {
			t.Fatalf("a run within the back-off: %v", err)
		}
	}
	left, err := e.st.DaysToRollUp(ctx)
	if err != nil || len(left) != 1 || !left[0].Equal(store.Day(days[0])) {
		t.Fatalf("days left to roll up: %v, %v; want only the failing day", left, err)
	}
	if bad.tries != 1 {
		t.Errorf("%d tries within the first minute, want 1 (back-off)", bad.tries)
	}
	now = now.Add(61 * time.Second)
	_ = j.RunOnce(ctx)
	now = now.Add(61 * time.Second) // the second back-off is 2 minutes
	_ = j.RunOnce(ctx)
	if bad.tries != 2 {
		t.Errorf("%d tries after 2 minutes, want 2", bad.tries)
	}
	bad.mu.Lock()
	bad.tries = 0
	bad.mu.Unlock()
	j.RunAndLog(ctx) // within the back-off: nothing to say
	now = now.Add(5 * time.Minute)
	j.RunAndLog(ctx) // a retry that fails again: already said
	if got := logs.FilterMessageSnippet("background job").Len(); got != 0 {
		t.Errorf("%d lines of the tick's log for a failing day, want none (the day's own lines)", got)
	}
	if got := logs.FilterMessageSnippet("roll-up of a day fails").Len(); got != 1 {
		t.Errorf("%d warnings for the failing day, want 1", got)
	}
	if bad.tries != 1 {
		t.Errorf("%d tries in the two runs after the back-off of 4 minutes, want 1", bad.tries)
	}
	if fd := j.FailingDays(); len(fd) != 1 || len(failed) != 3 {
		t.Errorf("failing days %v, failures told %v", fd, failed)
	}
	if err := e.rc.FlushCounts(ctx); err != nil {
		t.Fatal(err)
	}
	cs, err := e.st.IngestCounts(ctx, store.Day(days[0]), store.Day(days[0]))
	if err != nil || len(cs) != 1 || cs[0].Name != countRollUpFailed || cs[0].N != 3 {
		t.Errorf("ingest counts of the failing day: %+v, %v", cs, err)
	}
	bad.mu.Lock()
	bad.day = time.Time{} // cured
	bad.mu.Unlock()
	now = now.Add(2 * time.Hour)
	if err := j.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if left, _ := e.st.DaysToRollUp(ctx); len(left) != 0 || len(j.FailingDays()) != 0 {
		t.Errorf("after the cure: left %v, failing %v", left, j.FailingDays())
	}
	if got := logs.FilterMessageSnippet("works again").Len(); got != 1 {
		t.Errorf("%d lines for the recovery, want 1", got)
	}
}
