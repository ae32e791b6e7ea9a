package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mim-metrics/mim-metrics/facts"
)

// Run says that a cluster reported the same profile (its combined facts of
// a day, facts.CombineDay) on every day from First to Last (UTC dates,
// inclusive). A cluster's runs never overlap; a day without a counted
// report is in none of them.
type Run struct {
	Property, ClientID string
	Kind               Kind
	First, Last        time.Time
	Profile            int64
}

// RunSet is what a period's counts are computed from: the runs that
// overlap it, and the facts of their profiles.
type RunSet struct {
	Runs     []Run
	Profiles map[int64][]facts.Fact
}

const (
	insertRunsHead = `INSERT INTO cluster_runs (property, client_id, kind, first_day, last_day, profile)`
	runColumns     = 6
)

// dayNumber numbers a UTC day: days since 1970-01-01.
func dayNumber(t time.Time) int64 { return Day(t).Unix() / 86400 }

func fromDayNumber(n int64) time.Time { return time.Unix(n*86400, 0).UTC() }

// clusterProfile is one cluster's profile of the day being rolled up.
type clusterProfile struct {
	property, clientID string
	kind               Kind
	facts              []facts.Fact
}

// profileText is a profile as stored: JSON [dimension, value] pairs.
func profileText(fs []facts.Fact) string {
	pairs := make([][2]string, len(fs))
	for i, f := range fs {
		pairs[i] = [2]string{f.Dimension, f.Value}
	}
	b, _ := json.Marshal(pairs) // strings only: cannot fail
	return string(b)
}

func parseProfile(text string) ([]facts.Fact, error) {
	var pairs [][2]string
	if err := json.Unmarshal([]byte(text), &pairs); err != nil {
		return nil, fmt.Errorf("profile %.40q: %w", text, err)
	}
	out := make([]facts.Fact, len(pairs))
	for i, p := range pairs {
		out[i] = facts.Fact{Dimension: p[0], Value: p[1]}
	}
	return out, nil
}

// profileID returns the id of the profile with these facts, storing it
// first when it is new. Profiles never change, so ids are cached.
func (s *sqlStore) profileID(ctx context.Context, tx *sql.Tx, fs []facts.Fact) (int64, error) {
	text := profileText(fs)
	sum := sha256.Sum256([]byte(text))
	hash := hex.EncodeToString(sum[:])
	s.profilesMu.Lock()
	id, ok := s.profileIDs[hash]
	s.profilesMu.Unlock()
	if ok {
		return id, nil
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO profiles (hash, facts) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING`), hash, text); err != nil {
		return 0, err
	}
	if err := tx.QueryRowContext(ctx, s.rebind(`SELECT id FROM profiles WHERE hash = ?`), hash).Scan(&id); err != nil {
		return 0, err
	}
	// Cached only once the transaction commits (updateRuns): a rolled back
	// insert must not leave an id that names no row.
	return id, nil
}

// updateRuns records, in tx, that each cluster of profiles reported its
// profile on day: the run holding that day changes (split, extended,
// merged with its neighbours) only where the profile differs. Clusters
// without a profile that day keep their runs (their facts may have been
// deleted by the retention, not their days).
func (s *sqlStore) updateRuns(ctx context.Context, tx *sql.Tx, day time.Time, profiles []clusterProfile) (commit func(), err error) {
	d := dayNumber(day)
	type clusterKey struct{ property, clientID string }
	near := map[clusterKey][]Run{}
	rows, err := tx.QueryContext(ctx, s.rebind(`SELECT property, client_id, kind, first_day, last_day, profile FROM cluster_runs
WHERE last_day >= ? AND first_day <= ?`), d-1, d+1)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var r Run
		var kind string
		var first, last int64
		if err := rows.Scan(&r.Property, &r.ClientID, &kind, &first, &last, &r.Profile); err != nil {
			rows.Close()
			return nil, err
		}
		r.Kind, r.First, r.Last = Kind(kind), fromDayNumber(first), fromDayNumber(last)
		k := clusterKey{r.Property, r.ClientID}
		near[k] = append(near[k], r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, bumpRollupVersion); err != nil {
		return nil, err
	}
	undescribed, err := s.undescribed(ctx, tx, day)
	if err != nil {
		return nil, err
	}
	newIDs := map[string]int64{}
	var deletes, inserts []any // the rows' keys and values, for statements of many rows
	for _, p := range profiles {
		id, err := s.profileID(ctx, tx, p.facts)
		if err != nil {
			return nil, err
		}
		newIDs[profileText(p.facts)] = id
		old := near[clusterKey{p.property, p.clientID}]
		if profileIsNew(old, day, id) || undescribed[[2]string{p.property, p.clientID}] {
			if err := s.describeCluster(ctx, tx, p.property, p.clientID, day, p.facts); err != nil {
				return nil, err
			}
		}
		deleted, added := setDay(old, p.property, p.clientID, p.kind, day, id)
		for _, r := range deleted {
			deletes = append(deletes, r.Property, r.ClientID, dayNumber(r.First))
		}
		for _, r := range added {
			inserts = append(inserts, r.Property, r.ClientID, string(r.Kind), dayNumber(r.First), dayNumber(r.Last), r.Profile)
		}
	}
	// Deleted first: a run inserted may start on the day a deleted one did.
	for start := 0; start < len(deletes); start += 3 * maxRowsPerInsert {
		chunk := deletes[start:min(start+3*maxRowsPerInsert, len(deletes))]
		keys := strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", len(chunk)/3), ", ")
		if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM cluster_runs WHERE (property, client_id, first_day) IN (`+keys+`)`), chunk...); err != nil {
			return nil, err
		}
	}
	if err := s.insertRows(ctx, tx, insertRunsHead, runColumns, inserts); err != nil {
		return nil, err
	}
	return func() {
		s.profilesMu.Lock()
		defer s.profilesMu.Unlock()
		for text, id := range newIDs {
			sum := sha256.Sum256([]byte(text))
			s.profileIDs[hex.EncodeToString(sum[:])] = id
		}
	}, nil
}

// setDay returns the runs to delete and to insert so that a cluster whose
// runs near day (those ending on or after the day before, starting on or
// before the day after) are near reports profile on day. Nothing changes
// when the run holding the day has that profile already.
func setDay(near []Run, property, clientID string, kind Kind, day time.Time, profile int64) (deleted, added []Run) {
	var holding, left, right *Run
	for i := range near {
		r := &near[i]
		switch {
		case !r.First.After(day) && !r.Last.Before(day):
			holding = r
		case r.Last.Equal(day.AddDate(0, 0, -1)):
			left = r
		case r.First.Equal(day.AddDate(0, 0, 1)):
			right = r
		}
	}
	if holding != nil && holding.Profile == profile {
		return nil, nil
	}
	run := Run{Property: property, ClientID: clientID, Kind: kind, First: day, Last: day, Profile: profile}
	if holding != nil {
		// The day leaves its run: what came before and after it stays.
		deleted = append(deleted, *holding)
		if holding.First.Before(day) {
			before := *holding
			before.Last = day.AddDate(0, 0, -1)
			left = &before
			added = append(added, before)
		}
		if holding.Last.After(day) {
			after := *holding
			after.First = day.AddDate(0, 0, 1)
			right = &after
			added = append(added, after)
		}
	}
	if left != nil && left.Profile == profile {
		run.First = left.First
		deleted, added = replace(deleted, added, *left)
	}
	if right != nil && right.Profile == profile {
		run.Last = right.Last
		deleted, added = replace(deleted, added, *right)
	}
	return deleted, append(added, run)
}

// replace drops r, a run merged into another: from added when it was to be
// inserted, else by deleting it.
func replace(deleted, added []Run, r Run) ([]Run, []Run) {
	if i := slices.IndexFunc(added, func(a Run) bool { return a == r }); i >= 0 {
		return deleted, slices.Delete(added, i, i+1)
	}
	return append(deleted, r), added
}

const bumpRollupVersion = `UPDATE rollup_version SET n = n + 1`

func (s *sqlStore) RollupVersion(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT n FROM rollup_version`).Scan(&n); err != nil {
		return 0, fmt.Errorf("roll-up version: %w", err)
	}
	return n, nil
}

func (s *sqlStore) Runs(ctx context.Context, from, to time.Time) (RunSet, error) {
	set, err := s.runs(ctx, dayNumber(from), dayNumber(to))
	if err != nil {
		return RunSet{}, fmt.Errorf("runs %s to %s: %w", dayText(from), dayText(to), err)
	}
	return set, nil
}

func (s *sqlStore) runs(ctx context.Context, from, to int64) (RunSet, error) {
	set := RunSet{Profiles: map[int64][]facts.Fact{}}
	rows, err := s.r.QueryContext(ctx, s.rebind(`SELECT property, client_id, kind, first_day, last_day, profile FROM cluster_runs
WHERE last_day >= ? AND first_day <= ? ORDER BY property, client_id, first_day`), from, to)
	if err != nil {
		return set, err
	}
	defer rows.Close()
	for rows.Next() {
		var r Run
		var kind string
		var first, last int64
		if err := rows.Scan(&r.Property, &r.ClientID, &kind, &first, &last, &r.Profile); err != nil {
			return set, err
		}
		r.Kind, r.First, r.Last = Kind(kind), fromDayNumber(first), fromDayNumber(last)
		set.Runs = append(set.Runs, r)
		set.Profiles[r.Profile] = nil
	}
	if err := rows.Err(); err != nil {
		return set, err
	}
	rows.Close()
	return set, s.readProfiles(ctx, set.Profiles)
}

// readProfiles fills in the facts of the profiles named by ids' keys, from
// the cache or the database.
func (s *sqlStore) readProfiles(ctx context.Context, ids map[int64][]facts.Fact) error {
	var missing []any
	s.profilesMu.Lock()
	for id := range ids {
		if fs, ok := s.profileFacts[id]; ok {
			ids[id] = fs
		} else {
			missing = append(missing, id)
		}
	}
	s.profilesMu.Unlock()
	for len(missing) > 0 {
		chunk := missing[:min(len(missing), 500)]
		missing = missing[len(chunk):]
		rows, err := s.r.QueryContext(ctx, s.rebind(`SELECT id, facts FROM profiles WHERE id IN (`+
			strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")+`)`), chunk...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var text string
			if err := rows.Scan(&id, &text); err != nil {
				rows.Close()
				return err
			}
			fs, err := parseProfile(text)
			if err != nil {
				rows.Close()
				return err
			}
			ids[id] = fs
			s.profilesMu.Lock()
			s.profileFacts[id] = fs
			s.profilesMu.Unlock()
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}
