package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// sqliteRoller is SQLite's dayRoller. It reads the day's facts in a
// snapshot on a reader connection, so that batches are not held up
// meanwhile, then writes the day in one short transaction on the single
// writer that also deletes the marks the snapshot saw (marks are numbered
// in commit order: one writer, AUTOINCREMENT). A store's roll-ups run one
// at a time.
type sqliteRoller struct {
	s  *sqlStore
	mu sync.Mutex
}

func (ro *sqliteRoller) rollUp(ctx context.Context, day time.Time) error {
	ro.mu.Lock()
	defer ro.mu.Unlock()
	s := ro.s
	snapshot, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer snapshot.Rollback()
	var lastMark sql.NullInt64
	if err := snapshot.QueryRowContext(ctx, `SELECT MAX(id) FROM dirty_marks WHERE day = ?`, dayText(day)).Scan(&lastMark); err != nil {
		return err
	}
	r := newRollup(day)
	if err := s.readDayFacts(ctx, snapshot, day, r); err != nil {
		return err
	}
	snapshot.Rollback()

	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	cache, err := s.writeDay(ctx, tx, r)
	if err != nil {
		return err
	}
	if lastMark.Valid {
		if _, err := tx.ExecContext(ctx, `DELETE FROM dirty_marks WHERE day = ? AND id <= ?`, dayText(day), lastMark.Int64); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	cache()
	return nil
}

// lockRollups has nothing to take: SQLite's single writer serialises the
// writes, and a roll-up writes what it read before them.
func (ro *sqliteRoller) lockRollups(context.Context, *sql.Tx) error { return nil }
