package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mim-metrics/mim-metrics/facts"
)

// The admin view's cluster list, one page at a time: filtered by client id
// prefix, sorted by a column, LIMIT and OFFSET in SQL, so that a page
// costs the same at a million clusters as at a hundred. Each listed
// cluster's version, nodes and hosts come from its latest run's profile.

// ClusterSort is a column the cluster list can be sorted by.
type ClusterSort string

// The cluster list's sort columns.
const (
	SortLastSeen  ClusterSort = "last_seen"
	SortFirstSeen ClusterSort = "first_seen"
	SortKind      ClusterSort = "kind"
	SortClientID  ClusterSort = "client_id"
	// By the latest profile (store/describe.go): the highest version, the
	// node count, the host count bucket.
	SortVersion ClusterSort = "version"
	SortNodes   ClusterSort = "nodes"
	SortHosts   ClusterSort = "hosts"
)

// ClusterListQuery selects one page of the cluster list.
type ClusterListQuery struct {
	// Since: clusters last seen at or after it.
	Since time.Time
	// Prefix filters by the start of the client id; empty: every cluster.
	Prefix string
	Sort   ClusterSort
	// Ascending sorts the oldest (or "ci", or the lowest id) first.
	Ascending     bool
	Limit, Offset int
}

// ListedCluster is one row of the cluster list.
type ListedCluster struct {
	ClusterSummary
	// From the latest run's profile: the versions, the largest node count
	// and host count bucket (empty when unknown).
	Versions     []string
	Nodes, Hosts string
}

// ClusterLister is implemented by the stores that page the cluster list.
type ClusterLister interface {
	// ClusterPage returns at most q.Limit clusters of the list, and
	// whether more follow.
	ClusterPage(ctx context.Context, q ClusterListQuery) ([]ListedCluster, bool, error)
}

// clusterOrder is each sort's ORDER BY (%[1]s the direction asked for,
// %[2]s the other): the order of an index (which holds the primary key,
// property and client_id, after its columns), so that the database reads
// the index in order instead of sorting; by kind, the latest seen first.
var clusterOrder = map[ClusterSort]string{
	SortLastSeen:  "last_seen %[1]s, property %[1]s, client_id %[1]s",
	SortFirstSeen: "first_seen %[1]s, property %[1]s, client_id %[1]s",
	SortKind:      "kind %[1]s, last_seen %[2]s, property %[1]s, client_id %[1]s",
	SortClientID:  "client_id %[1]s, property %[1]s",
	SortVersion:   "version_key %[1]s, property %[1]s, client_id %[1]s",
	SortNodes:     "nodes_rank %[1]s, property %[1]s, client_id %[1]s",
	SortHosts:     "hosts_rank %[1]s, property %[1]s, client_id %[1]s",
}

// ClusterPage implements ClusterLister.
func (s *sqlStore) ClusterPage(ctx context.Context, q ClusterListQuery) ([]ListedCluster, bool, error) {
	order, ok := clusterOrder[q.Sort]
	if !ok {
		return nil, false, fmt.Errorf("cluster list: no sort %q", q.Sort)
	}
	dir, other := "DESC", "ASC"
	if q.Ascending {
		dir, other = "ASC", "DESC"
	}
	limit := min(max(q.Limit, 1), 1000)
	// Sorted by another column, the rows are read in that column's index
	// order, the period checked on each ("+ 0": not by the last_seen
	// index, which would make the database sort every cluster seen).
	where, args := "last_seen >= ?", []any{micros(q.Since)}
	if q.Sort != SortLastSeen {
		where = "last_seen + 0 >= ?"
	}
	if q.Prefix != "" {
		// The range reads the prefix's ids from the client_id index; the
		// exact test keeps the answer right whatever the collation.
		where += " AND client_id >= ? AND client_id < ? AND substr(client_id, 1, ?) = ?"
		args = append(args, q.Prefix, q.Prefix+"\U0010FFFF", utf8.RuneCountInString(q.Prefix), q.Prefix)
		if q.Sort == SortLastSeen {
			where = strings.Replace(where, "last_seen >= ?", "last_seen + 0 >= ?", 1)
		}
	}
	args = append(args, limit+1, max(q.Offset, 0))
	rows, err := s.r.QueryContext(ctx, s.rebind(`SELECT client_id, property, kind, first_seen, last_seen, counted
FROM clusters WHERE `+where+` ORDER BY `+fmt.Sprintf(order, dir, other)+` LIMIT ? OFFSET ?`), args...)
	if err != nil {
		return nil, false, fmt.Errorf("cluster list: %w", err)
	}
	var out []ListedCluster
	for rows.Next() {
		var c ListedCluster
		var kind string
		var first, last int64
		var counted int
		if err := rows.Scan(&c.ClientID, &c.Property, &kind, &first, &last, &counted); err != nil {
			rows.Close()
			return nil, false, fmt.Errorf("cluster list: %w", err)
		}
		c.Kind, c.FirstSeen, c.LastSeen, c.Counted = Kind(kind), fromMicros(first), fromMicros(last), counted != 0
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("cluster list: %w", err)
	}
	more := len(out) > limit
	out = out[:min(len(out), limit)]
	if err := s.describeClusters(ctx, out); err != nil {
		return nil, false, fmt.Errorf("cluster list: %w", err)
	}
	return out, more, nil
}

// describeClusters fills in each cluster's version, nodes and hosts from
// its latest run.
func (s *sqlStore) describeClusters(ctx context.Context, cs []ListedCluster) error {
	latest := make([]int64, len(cs))
	ids := map[int64][]facts.Fact{}
	for i, c := range cs {
		var profile int64
		err := s.r.QueryRowContext(ctx, s.rebind(`SELECT profile FROM cluster_runs WHERE property = ? AND client_id = ?
ORDER BY first_day DESC LIMIT 1`), c.Property, c.ClientID).Scan(&profile)
		if errors.Is(err, sql.ErrNoRows) {
			continue // no run yet (not rolled up): no description
		}
		if err != nil {
			return err
		}
		latest[i], ids[profile] = profile, nil
	}
	if err := s.readProfiles(ctx, ids); err != nil {
		return err
	}
	for i := range cs {
		for _, f := range ids[latest[i]] {
			switch f.Dimension {
			case facts.Version:
				cs[i].Versions = append(cs[i].Versions, f.Value)
			case facts.NodeNumber:
				cs[i].Nodes = f.Value
			case facts.Hosts:
				cs[i].Hosts = f.Value
			}
		}
	}
	return nil
}
