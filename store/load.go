package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/mim-metrics/mim-metrics/facts"
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
	return s.loadInRollupTx(ctx, func(tx *sql.Tx) error {
		for _, d := range sorted {
			if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM rollups WHERE day = ?`), d); err != nil {
				return err
			}
		}
		return s.insertRows(ctx, tx, insertRollupsHead, rollupColumns, args)
	})
}

// loadInRollupTx runs load in a transaction that holds RollUp's lock (no
// roll-up meanwhile) and then moves the roll-up version on, so that the
// dashboard counts what was loaded.
func (s *sqlStore) loadInRollupTx(ctx context.Context, load func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := s.roller.lockRollups(ctx, tx); err != nil {
		return err
	}
	if err := load(tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, bumpRollupVersion); err != nil {
		return err
	}
	return tx.Commit()
}

// LoadedRun is a cluster run computed elsewhere: the days [First, Last]
// on which the cluster reported Facts (combined, facts.CombineDay).
type LoadedRun struct {
	Property, ClientID string
	Kind               Kind
	First, Last        time.Time
	Facts              []facts.Fact
}

// LoadRuns writes cluster runs computed elsewhere, in one transaction,
// storing their profiles: a history loaded at once (the receiver
// benchmark's year). The runs must not overlap each other nor the stored
// ones. s must be a store of this package.
func LoadRuns(ctx context.Context, s Store, runs []LoadedRun) error {
	st, ok := s.(*sqlStore)
	if !ok {
		return errors.New("load runs: not a store of package store")
	}
	if err := st.loadRuns(ctx, runs); err != nil {
		return fmt.Errorf("load runs: %w", err)
	}
	return nil
}

func (s *sqlStore) loadRuns(ctx context.Context, runs []LoadedRun) error {
	return s.loadInRollupTx(ctx, func(tx *sql.Tx) error {
		ids := map[string]int64{}
		args := make([]any, 0, len(runs)*runColumns)
		for _, r := range runs {
			text := profileText(r.Facts)
			id, ok := ids[text]
			if !ok {
				var err error
				if id, err = s.profileID(ctx, tx, r.Facts); err != nil {
					return err
				}
				ids[text] = id
			}
			args = append(args, r.Property, r.ClientID, string(r.Kind), dayNumber(r.First), dayNumber(r.Last), id)
		}
		return s.insertRows(ctx, tx, insertRunsHead, runColumns, args)
	})
}

// LoadedCluster is a cluster's row computed elsewhere: when it was first
// and last seen, and the facts of its latest profile (its version, nodes
// and hosts, as the cluster list sorts by them).
type LoadedCluster struct {
	Property, ClientID  string
	Kind                Kind
	FirstSeen, LastSeen time.Time
	Latest              []facts.Fact
}

const (
	insertClustersHead = `INSERT INTO clusters (property, client_id, kind, first_seen, last_seen, counted, version_key, nodes_rank, hosts_rank, described_day)`
	loadedClusterCols  = 10
)

// LoadClusters writes cluster rows computed elsewhere, in one transaction:
// the receiver benchmark's million clusters of the admin view. The
// clusters must not be stored yet. s must be a store of this package.
func LoadClusters(ctx context.Context, s Store, clusters []LoadedCluster) error {
	st, ok := s.(*sqlStore)
	if !ok {
		return errors.New("load clusters: not a store of package store")
	}
	tx, err := st.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("load clusters: %w", err)
	}
	defer tx.Rollback()
	args := make([]any, 0, len(clusters)*loadedClusterCols)
	for _, c := range clusters {
		d := describe(c.Latest)
		args = append(args, c.Property, c.ClientID, string(c.Kind), micros(c.FirstSeen), micros(c.LastSeen), 1,
			d.versionKey, d.nodesRank, d.hostsRank, dayNumber(c.LastSeen))
	}
	if err := st.insertRows(ctx, tx, insertClustersHead, loadedClusterCols, args); err != nil {
		return fmt.Errorf("load clusters: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("load clusters: %w", err)
	}
	return nil
}
