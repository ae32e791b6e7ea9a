package receiver

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/mim-metrics/mim-metrics/store"
)

// Jobs are the receiver's background work: rolling up the days whose facts
// changed, deleting raw events older than the retention, and flushing the
// ingest counts.
type Jobs struct {
	Store store.Store
	// Retention is how long raw events are kept; 0: forever.
	Retention time.Duration
	// DeleteBatch is the most raw events one delete removes (default
	// 10,000), MaxDeletes the most deletes per run (default 100): a long
	// backlog is worked off over several runs without holding the database.
	DeleteBatch, MaxDeletes int
	// Flush, if set, is called on every run (Receiver.FlushCounts).
	Flush func(context.Context) error
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	Log *zap.Logger
}

// RunOnce flushes the counts, rolls up every day that needs it and deletes
// expired raw events. It returns the first error, after trying every step.
func (j *Jobs) RunOnce(ctx context.Context) error {
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	if j.Flush != nil {
		keep(j.Flush(ctx))
	}
	keep(j.rollUp(ctx))
	_, err := j.deleteExpired(ctx)
	keep(err)
	return first
}

func (j *Jobs) rollUp(ctx context.Context) error {
	days, err := j.Store.DaysToRollUp(ctx)
	if err != nil {
		return fmt.Errorf("list the days to roll up: %w", err)
	}
	for _, d := range days {
		if err := j.Store.RollUp(ctx, d); err != nil {
			return fmt.Errorf("roll up %s: %w", d.Format(time.DateOnly), err)
		}
	}
	return nil
}

func (j *Jobs) deleteExpired(ctx context.Context) (int64, error) {
	if j.Retention <= 0 {
		return 0, nil
	}
	now := time.Now
	if j.Now != nil {
		now = j.Now
	}
	batch, runs := j.DeleteBatch, j.MaxDeletes
	if batch <= 0 {
		batch = 10_000
	}
	if runs <= 0 {
		runs = 100
	}
	cutoff := now().Add(-j.Retention)
	var total int64
	for range runs {
		n, err := j.Store.DeleteBefore(ctx, cutoff, batch)
		total += n
		if err != nil {
			return total, fmt.Errorf("delete raw events before %s: %w", cutoff.UTC().Format(time.RFC3339), err)
		}
		if n < int64(batch) {
			break
		}
	}
	return total, nil
}

// Run calls RunOnce at every tick until ctx ends, logging failures (the
// next tick tries again).
func (j *Jobs) Run(ctx context.Context, ticks <-chan time.Time) {
	log := j.Log
	if log == nil {
		log = zap.NewNop()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
			if err := j.RunOnce(ctx); err != nil && ctx.Err() == nil {
				log.Warn("background job failed; retrying at the next tick", zap.Error(err))
			}
		}
	}
}
