package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

func (s *sqlStore) DeleteBefore(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	n, err := s.deleteBefore(ctx, cutoff, limit)
	if err != nil {
		return 0, fmt.Errorf("delete before %s: %w", cutoff.UTC().Format(time.RFC3339), err)
	}
	return n, nil
}

func (s *sqlStore) deleteBefore(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	if limit <= 0 {
		return 0, nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	// The oldest batches whose events fit in limit, and the events of the
	// next one that do.
	rows, err := tx.QueryContext(ctx, s.rebind(`SELECT id, events_left FROM batches WHERE received < ? ORDER BY received, id LIMIT ?`),
		micros(cutoff), limit)
	if err != nil {
		return 0, err
	}
	var whole []any
	var partial, partialEvents int64
	budget := int64(limit)
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return 0, err
		}
		if n > budget {
			partial, partialEvents = id, budget
			break
		}
		whole = append(whole, id)
		budget -= n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	var total int64
	del := func(q string, args ...any) error {
		res, err := tx.ExecContext(ctx, s.rebind(q), args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		total += n
		return err
	}
	for start := 0; start < len(whole); start += maxRowsPerInsert {
		ids := whole[start:min(len(whole), start+maxRowsPerInsert)]
		in := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
		if err := del(`DELETE FROM events WHERE batch_id IN (`+in+`)`, ids...); err != nil {
			return 0, err
		}
		if err := del(`DELETE FROM batches WHERE id IN (`+in+`)`, ids...); err != nil {
			return 0, err
		}
	}
	if partialEvents > 0 {
		if err := del(`DELETE FROM events WHERE batch_id = ? AND seq IN
(SELECT seq FROM events WHERE batch_id = ? ORDER BY seq LIMIT ?)`, partial, partial, partialEvents); err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE batches SET events_left = events_left - ? WHERE id = ?`), partialEvents, partial); err != nil {
			return 0, err
		}
	}
	// A day's facts go once the whole day is older than the cutoff.
	if err := del(`DELETE FROM facts WHERE (day, property, client_id, dimension, value) IN
(SELECT day, property, client_id, dimension, value FROM facts WHERE day < ? LIMIT ?)`, dayText(cutoff), limit); err != nil {
		return 0, err
	}
	return total, tx.Commit()
}
