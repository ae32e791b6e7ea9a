package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
)

// LoadRollups writes roll-up rows computed elsewhere, replacing every row
// of the days they cover, in one transaction: a history loaded at once (the
// receiver benchmark's year of roll-ups, too many raw events to compute it
// from). s must be a store of this package (Open, OpenSQLite, OpenPostgres).
func LoadRollups(ctx context.Context, s Store, rows []RollupRow) error {
	st, ok := s.(*sqlStore)
	if !ok {
		return errors.New("load roll-ups: not a store of package store")
	}
	if err := st.loadRollups(ctx, rows); err != nil {
		return fmt.Errorf("load roll-ups: %w", err)
	}
	return nil
}

func (s *sqlStore) loadRollups(ctx context.Context, rows []RollupRow) error {
	days := map[string]bool{}
	args := make([]any, 0, len(rows)*rollupColumns)
	for _, r := range rows {
		day := dayText(Day(r.Day))
		days[day] = true
		args = append(args, day, string(r.Kind), r.Version, r.Dimension, r.Value, r.Clusters, r.Sum)
	}
	sorted := make([]string, 0, len(days))
	for d := range days {
		sorted = append(sorted, d)
	}
	sort.Strings(sorted)
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, d := range sorted {
		day, err := parseDay(d)
		if err != nil {
			return err
		}
		// The same lock as RollUp: no roll-up of these days meanwhile.
		if s.d.lockDay != nil {
			if err := s.d.lockDay(ctx, tx, day); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM rollups WHERE day = ?`), d); err != nil {
			return err
		}
	}
	if err := s.insertRows(ctx, tx, insertRollupsHead, "", rollupColumns, args); err != nil {
		return err
	}
	return tx.Commit()
}
