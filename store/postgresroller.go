package store

import (
	"context"
	"database/sql"
	"time"
)

// The store's advisory locks: the first key is "mm" (0x6d6d), the second
// 0 for migrations, 1 for roll-ups (one at a time: a day's roll-up changes
// the cluster runs of the days beside it too).
const (
	lockMigrations = `SELECT pg_advisory_xact_lock(28013, 0)`
	lockRollups    = `SELECT pg_advisory_xact_lock(28013, 1)`
)

// postgresRoller is PostgreSQL's dayRoller: a day in one transaction under
// the roll-ups' advisory lock, so that receivers on one database compute
// one day at a time, while batches take no lock. The day's marks go
// first: a batch whose mark is deleted had committed, so the facts read
// next include its; a batch committing later keeps its mark for the next
// roll-up.
type postgresRoller struct{ s *sqlStore }

func (ro postgresRoller) rollUp(ctx context.Context, day time.Time) error {
	s := ro.s
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := ro.lockRollups(ctx, tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM dirty_marks WHERE day = $1`, dayText(day)); err != nil {
		return err
	}
	r := newRollup(day)
	if err := s.readDayFacts(ctx, tx, day, r); err != nil {
		return err
	}
	cache, err := s.writeDay(ctx, tx, r)
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	cache()
	return nil
}

func (ro postgresRoller) lockRollups(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, lockRollups)
	return err
}
