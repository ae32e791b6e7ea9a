package receiver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
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
	// RollUpFailed, if set, is told of every failed roll-up of a day
	// (Receiver.CountRollUpFailure: the ingest health shows them).
	RollUpFailed func(day time.Time)
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	Log *zap.Logger

	mu      sync.Mutex
	failing map[time.Time]*dayFailure // days whose roll-up fails
	runErr  string                    // the last RunOnce error, for Run's log
}

// dayFailure is a day whose roll-up failed: retried at retryAt, after a
// back-off that doubles up to maxRollUpBackoff.
type dayFailure struct {
	failures int
	retryAt  time.Time
}

// The back-off of a day whose roll-up fails: a minute, doubling, at most
// an hour.
const (
	minRollUpBackoff = time.Minute
	maxRollUpBackoff = time.Hour
)

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

// rollUp rolls up every day that needs it. A day that fails is retried
// after a back-off and holds back no other day; its failure is logged when
// it starts and when it ends, not at every try.
func (j *Jobs) rollUp(ctx context.Context) error {
	days, err := j.Store.DaysToRollUp(ctx)
	if err != nil {
		return fmt.Errorf("list the days to roll up: %w", err)
	}
	now := j.now()
	var errs []error
	for _, d := range days {
		if f := j.failure(d); f != nil && now.Before(f.retryAt) {
			continue
		}
		err := j.Store.RollUp(ctx, d)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		j.noteRollUp(d, now, err)
		if err != nil {
			errs = append(errs, &dayRollUpError{d, err})
		}
	}
	return errors.Join(errs...)
}

// dayRollUpError is a day whose roll-up failed (logged by noteRollUp).
type dayRollUpError struct {
	day time.Time
	err error
}

func (e *dayRollUpError) Error() string {
	return fmt.Sprintf("roll up %s: %v", e.day.Format(time.DateOnly), e.err)
}

func (e *dayRollUpError) Unwrap() error { return e.err }

func (j *Jobs) failure(day time.Time) *dayFailure {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.failing[day]
}

// noteRollUp keeps a day's roll-up outcome: the back-off, the log lines.
func (j *Jobs) noteRollUp(day, now time.Time, err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	f := j.failing[day]
	name := day.Format(time.DateOnly)
	if err == nil {
		if f != nil {
			delete(j.failing, day)
			j.logger().Info("the roll-up of a day works again", zap.String("day", name), zap.Int("failed_tries", f.failures))
		}
		return
	}
	if j.RollUpFailed != nil {
		j.RollUpFailed(day)
	}
	if f == nil {
		if j.failing == nil {
			j.failing = map[time.Time]*dayFailure{}
		}
		f = &dayFailure{}
		j.failing[day] = f
		j.logger().Warn("the roll-up of a day fails: retried with a back-off (up to an hour), the other days go on",
			zap.String("day", name), zap.Error(err))
	}
	f.failures++
	backoff := maxRollUpBackoff
	if f.failures <= 7 {
		backoff = min(minRollUpBackoff<<(f.failures-1), maxRollUpBackoff)
	}
	f.retryAt = now.Add(backoff)
}

// FailingDays are the days whose roll-up fails, in order.
func (j *Jobs) FailingDays() []time.Time {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]time.Time, 0, len(j.failing))
	for d := range j.failing {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

func (j *Jobs) now() time.Time {
	if j.Now != nil {
		return j.Now()
	}
	return time.Now()
}

func (j *Jobs) logger() *zap.Logger {
	if j.Log == nil {
		return zap.NewNop()
	}
	return j.Log
}

func (j *Jobs) deleteExpired(ctx context.Context) (int64, error) {
	if j.Retention <= 0 {
		return 0, nil
	}
	batch, runs := j.DeleteBatch, j.MaxDeletes
	if batch <= 0 {
		batch = 10_000
	}
	if runs <= 0 {
		runs = 100
	}
	cutoff := j.now().Add(-j.Retention)
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

// Run calls RunOnce at every tick until ctx ends (the next tick tries
// again what failed).
func (j *Jobs) Run(ctx context.Context, ticks <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
			j.RunAndLog(ctx)
		}
	}
}

// RunAndLog is RunOnce, its failure logged when it starts or changes, and
// its end: a failure that lasts is not logged at every tick (a day whose
// roll-up fails is logged by itself, when it starts and stops failing).
func (j *Jobs) RunAndLog(ctx context.Context) {
	err := j.RunOnce(ctx)
	if ctx.Err() != nil {
		return
	}
	msg := ""
	var dayErr *dayRollUpError
	if err != nil && !errors.As(err, &dayErr) {
		msg = err.Error()
	}
	j.mu.Lock()
	last := j.runErr
	j.runErr = msg
	j.mu.Unlock()
	switch {
	case msg != "" && msg != last:
		j.logger().Warn("background job failed; retrying at the next tick", zap.Error(err))
	case msg == "" && last != "":
		j.logger().Info("background jobs work again")
	}
}
