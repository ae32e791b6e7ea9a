package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mim-metrics/mim-metrics/facts"
)

// Each cluster's latest profile, described in sortable columns of the
// clusters table (version_key, nodes_rank, hosts_rank), so that the admin
// view's cluster list sorts by them in SQL. A roll-up describes a cluster
// of its day when the day's profile is new for it (its first day, or
// another profile than the day before's or than the day had), or when it
// was never described (kept before the columns existed), unless a later
// day described it already.

// description is a profile's sort keys.
type description struct {
	versionKey           string
	nodesRank, hostsRank int
}

// describe computes a profile's sort keys: its highest version (as
// versionKey writes it) and the ranks of its node count and host count
// buckets (-1: not reported).
func describe(fs []facts.Fact) description {
	d := description{nodesRank: -1, hostsRank: -1}
	for _, f := range fs {
		switch f.Dimension {
		case facts.Version:
			d.versionKey = max(d.versionKey, versionKey(f.Value))
		case facts.NodeNumber, facts.Hosts:
			spec, _ := facts.SpecOf(f.Dimension)
			if f.Dimension == facts.NodeNumber {
				d.nodesRank = max(d.nodesRank, spec.Rank(f.Value))
			} else {
				d.hostsRank = max(d.hostsRank, spec.Rank(f.Value))
			}
		}
	}
	return d
}

// versionKey writes a version so that keys sort as versions do: each
// numeric part zero-padded to 6 digits ("6.10.0" after "6.9.1"); cut to
// 64 bytes.
func versionKey(v string) string {
	parts := strings.FieldsFunc(v, func(r rune) bool { return r == '.' || r == '-' || r == '+' })
	for i, p := range parts {
		if n, err := strconv.Atoi(p); err == nil && n >= 0 && len(p) <= 6 {
			parts[i] = fmt.Sprintf("%06d", n)
		}
	}
	k := strings.Join(parts, ".")
	if len(k) > 64 {
		k = k[:64]
	}
	return k
}

// undescribed returns, of the clusters seen on or after day, those never
// described.
func (s *sqlStore) undescribed(ctx context.Context, tx *sql.Tx, day time.Time) (map[[2]string]bool, error) {
	rows, err := tx.QueryContext(ctx, s.rebind(`SELECT property, client_id FROM clusters WHERE described_day < 0 AND last_seen >= ?`), micros(day))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[[2]string]bool{}
	for rows.Next() {
		var k [2]string
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			return nil, err
		}
		out[k] = true
	}
	return out, rows.Err()
}

// describeCluster sets a cluster's sort keys from its profile of day,
// unless a later day's profile is described.
func (s *sqlStore) describeCluster(ctx context.Context, tx *sql.Tx, property, clientID string, day time.Time, fs []facts.Fact) error {
	d, n := describe(fs), dayNumber(day)
	_, err := tx.ExecContext(ctx, s.rebind(`UPDATE clusters SET version_key = ?, nodes_rank = ?, hosts_rank = ?, described_day = ?
WHERE property = ? AND client_id = ? AND described_day <= ?`), d.versionKey, d.nodesRank, d.hostsRank, n, property, clientID, n)
	return err
}

// profileIsNew says whether a cluster's profile of day differs from what
// its runs near the day held on the day before or on the day itself.
func profileIsNew(near []Run, day time.Time, profile int64) bool {
	before := day.AddDate(0, 0, -1)
	hadBefore := false
	for _, r := range near {
		if !r.First.After(day) && !r.Last.Before(day) && r.Profile != profile {
			return true
		}
		if !r.First.After(before) && !r.Last.Before(before) {
			hadBefore = true
			if r.Profile != profile {
				return true
			}
		}
	}
	return !hadBefore
}
