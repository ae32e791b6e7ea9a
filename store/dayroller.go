package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/mim-metrics/mim-metrics/facts"
)

// dayRoller recomputes days' roll-ups and cluster runs from their facts:
// the steps below, in its database's transactions.
type dayRoller interface {
	// rollUp computes day (a UTC date) and deletes the marks it counted.
	rollUp(ctx context.Context, day time.Time) error
	// lockRollups takes in tx what a roll-up holds while it writes, for a
	// load of roll-ups or runs computed elsewhere.
	lockRollups(ctx context.Context, tx *sql.Tx) error
}

func (s *sqlStore) RollUp(ctx context.Context, day time.Time) error {
	if err := s.roller.rollUp(ctx, Day(day)); err != nil {
		return fmt.Errorf("roll up %s: %w", dayText(day), err)
	}
	return nil
}

const insertRollupsHead = `INSERT INTO rollups (day, kind, version, dimension, value, clusters, amount)`
const rollupColumns = 7

// writeDay writes, in tx, what r computed of its day: the roll-up rows and
// the cluster runs. commit is to be called once tx is committed.
func (s *sqlStore) writeDay(ctx context.Context, tx *sql.Tx, r *rollup) (commit func(), err error) {
	if err := s.writeRollups(ctx, tx, r.day, r.rows()); err != nil {
		return nil, err
	}
	return s.updateRuns(ctx, tx, r.day, r.profiles)
}

// writeRollups replaces the day's rows by rows. No rows (no facts: none
// counted, or deleted by the retention): the day's rows stay as they were.
func (s *sqlStore) writeRollups(ctx context.Context, tx *sql.Tx, day time.Time, rows []RollupRow) error {
	if len(rows) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM rollups WHERE day = ?`), dayText(day)); err != nil {
		return err
	}
	args := make([]any, 0, len(rows)*rollupColumns)
	for _, row := range rows {
		args = append(args, dayText(day), string(row.Kind), row.Version, row.Dimension, row.Value, row.Clusters, row.Sum)
	}
	return s.insertRows(ctx, tx, insertRollupsHead, rollupColumns, args)
}

// readDayFacts gives r the day's facts, one cluster after the other.
func (s *sqlStore) readDayFacts(ctx context.Context, tx *sql.Tx, day time.Time, r *rollup) error {
	// The clusters that can have facts that day: seen on or after it and
	// first seen before its end (read apart: cheaper than a join per fact).
	type clusterKey struct{ property, clientID string }
	type clusterInfo struct {
		kind      Kind
		firstSeen time.Time
	}
	clusters := map[clusterKey]clusterInfo{}
	rows, err := tx.QueryContext(ctx, s.rebind(`SELECT property, client_id, kind, first_seen FROM clusters
WHERE last_seen >= ? AND first_seen < ?`), micros(day), micros(day.AddDate(0, 0, 1)))
	if err != nil {
		return err
	}
	for rows.Next() {
		var k clusterKey
		var kind string
		var first int64
		if err := rows.Scan(&k.property, &k.clientID, &kind, &first); err != nil {
			rows.Close()
			return err
		}
		clusters[k] = clusterInfo{Kind(kind), fromMicros(first)}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	// CAST: an amount that overflowed into a float (SQLite, before sums
	// were held at the limit) is read as the limit.
	rows, err = tx.QueryContext(ctx, s.rebind(`SELECT property, client_id, dimension, value, CAST(amount AS BIGINT) FROM facts
WHERE day = ? ORDER BY property, client_id`), dayText(day))
	if err != nil {
		return err
	}
	defer rows.Close()
	// Raw bytes and interned strings: a day has ~50 facts per cluster but
	// few distinct values.
	var property, clientID, dimension, value sql.RawBytes
	var amount int64
	interned := map[string]string{}
	intern := func(b []byte) string {
		if s, ok := interned[string(b)]; ok {
			return s
		}
		s := string(b)
		interned[s] = s
		return s
	}
	skipping := false
	for rows.Next() {
		if err := rows.Scan(&property, &clientID, &dimension, &value, &amount); err != nil {
			return err
		}
		if string(property) != r.property || string(clientID) != r.clientID {
			k := clusterKey{string(property), string(clientID)}
			info, ok := clusters[k]
			skipping = !ok
			if skipping {
				// A cluster stored after the clusters were read (PostgreSQL
				// reads each statement at its own time): its batch's mark
				// is left for the next roll-up.
				continue
			}
			r.startCluster(k.property, k.clientID, info.kind, info.firstSeen)
		} else if skipping {
			continue
		}
		r.add(facts.Fact{Dimension: intern(dimension), Value: intern(value), Amount: amount})
	}
	return rows.Err()
}

func (s *sqlStore) DaysToRollUp(ctx context.Context) ([]time.Time, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT day FROM dirty_marks ORDER BY day`)
	if err != nil {
		return nil, fmt.Errorf("days to roll up: %w", err)
	}
	defer rows.Close()
	var days []time.Time
	for rows.Next() {
		var text string
		if err := rows.Scan(&text); err != nil {
			return nil, fmt.Errorf("days to roll up: %w", err)
		}
		day, err := parseDay(text)
		if err != nil {
			return nil, err
		}
		days = append(days, day)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("days to roll up: %w", err)
	}
	return days, nil
}
