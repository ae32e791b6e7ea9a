package testkit

import (
	"context"
	"testing"
	"time"
)

// DayRoller is what RollUpAll needs of a store (a store.Store).
type DayRoller interface {
	DaysToRollUp(ctx context.Context) ([]time.Time, error)
	RollUp(ctx context.Context, day time.Time) error
}

// RollUpAll rolls up every day the store has to, as the receiver's
// background job would; the test fails at the first error.
func RollUpAll(t testing.TB, ctx context.Context, st DayRoller) {
	t.Helper()
	days, err := st.DaysToRollUp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range days {
		if err := st.RollUp(ctx, d); err != nil {
			t.Fatalf("roll up %s: %v", d.Format(time.DateOnly), err)
		}
	}
}
