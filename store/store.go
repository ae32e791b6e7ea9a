// Package store keeps what the receiver accepts: raw events for a retention
// period, the facts each cluster reported per day, and daily roll-ups of
// distinct clusters per dimension value, kept forever. One interface, two
// implementations: SQLite (embedded, the default) and PostgreSQL.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/facts"
)

// Kind says whether a property receives real installations' reports or CI
// runs' (MongooseIM's CI builds report to a property of their own).
type Kind string

// Property kinds.
const (
	Production Kind = "production"
	CI         Kind = "ci"
)

// Batch is one accepted request: the events one node sent in one request of
// one report cycle.
type Batch struct {
	// Received is when the receiver accepted the request.
	Received time.Time
	// Property is the measurement id (G-…) or tracking id (UA-…).
	Property string
	// Kind is the property's kind.
	Kind Kind
	// ClientID is the cluster's id (MongooseIM's Cluster ID or a random UUID).
	ClientID string
	// ReportKey groups the batches of one node's report of one cycle; empty:
	// the store makes one for this batch alone.
	ReportKey string
	// DedupKey, when not empty, identifies the request: a batch with a
	// DedupKey already stored is not stored again (a retried request).
	DedupKey string
	// Country is the ISO 3166-1 alpha-2 code of the sender, or empty.
	Country string
	// Counted is false for a batch that is kept but must not count in the
	// roll-ups (a source address that claims too many clusters).
	Counted bool
	// Events are the batch's valid events.
	Events []contract.Event
}

// StoredEvent is one raw event as kept, for export.
type StoredEvent struct {
	Received  time.Time      `json:"received"`
	Property  string         `json:"property"`
	Kind      Kind           `json:"kind"`
	ClientID  string         `json:"client_id"`
	ReportKey string         `json:"report_key"`
	Country   string         `json:"country,omitempty"`
	Name      string         `json:"name"`
	Params    map[string]any `json:"params"`
}

// RollupQuery selects roll-up rows. Days are UTC dates; From and To are
// inclusive.
type RollupQuery struct {
	From, To time.Time
	// Kind filters by property kind; empty: every kind.
	Kind Kind
	// Version selects the rows of clusters that reported this server
	// version; empty: all clusters (the rows with Version facts.AllVersions).
	Version string
	// Dimensions selects dimensions; empty: every dimension.
	Dimensions []string
}

// RollupRow is the number of distinct clusters that reported a dimension
// value on one day to properties of one kind, and the sum of the fact's
// amounts (stanza increments) over them.
type RollupRow struct {
	Day       time.Time
	Kind      Kind
	Version   string
	Dimension string
	Value     string
	Clusters  int64
	Sum       int64
}

// ClusterDay is one cluster's facts on one day (the admin view's history).
type ClusterDay struct {
	Day      time.Time
	Property string
	Facts    []facts.Fact
}

// ClusterSummary is one cluster as the admin list shows it.
type ClusterSummary struct {
	ClientID  string
	Property  string
	Kind      Kind
	FirstSeen time.Time
	LastSeen  time.Time
	Counted   bool
}

// Uncounted is a cluster whose batches of one day were stored but not
// counted: their source address had brought its property's cap of other
// clusters that day.
type Uncounted struct {
	Day      time.Time
	Property string
	ClientID string
}

// IngestCount counts requests, events or drops of one kind on one day for
// one property (empty when the property was unknown), e.g. Name "rejected"
// with Reason "unknown property".
type IngestCount struct {
	Day      time.Time
	Property string
	Name     string
	Reason   string
	N        int64
}

// Store is where the receiver keeps reports. Every method is safe for
// concurrent use. Implementations: OpenSQLite, OpenPostgres; Open picks one
// from a URL.
type Store interface {
	// AddBatch stores b durably (committed before it returns) with the facts
	// its events state (facts.FromEvents; none when b is not Counted), unless
	// a batch with the same DedupKey is already stored: stored is then false
	// and nothing changes.
	AddBatch(ctx context.Context, b Batch) (stored bool, err error)
	// Export calls fn for every raw event received in [since, until), oldest
	// first.
	Export(ctx context.Context, since, until time.Time, fn func(StoredEvent) error) error
	// RollUp recomputes the roll-ups of one UTC day from the stored facts,
	// replacing that day's rows. Computing a day twice gives the same rows;
	// with several receivers on one database only one computes a day at a
	// time. A day with no facts left (deleted by the retention) keeps its
	// rows.
	RollUp(ctx context.Context, day time.Time) error
	// Runs returns the cluster runs that overlap the days [from, to], with
	// their profiles' facts: a period's exact distinct clusters.
	Runs(ctx context.Context, from, to time.Time) (RunSet, error)
	// RollupVersion changes whenever roll-ups or runs change (on any
	// receiver of the database): what was computed from them is still
	// right while it is the same.
	RollupVersion(ctx context.Context) (int64, error)
	// DaysToRollUp lists the days whose facts changed since they were last
	// rolled up.
	DaysToRollUp(ctx context.Context) ([]time.Time, error)
	// DeleteBefore deletes at most limit raw events received before cutoff
	// (oldest first; a batch, and its DedupKey, goes with its last event)
	// and at most limit facts of the days before cutoff's day, returning how
	// many rows it deleted (call it again until it returns 0); roll-ups stay.
	DeleteBefore(ctx context.Context, cutoff time.Time, limit int) (int64, error)
	// Rollups returns the roll-up rows q selects, by day, then dimension,
	// value and kind.
	Rollups(ctx context.Context, q RollupQuery) ([]RollupRow, error)
	// Clusters lists the clusters seen since the given time, newest first.
	Clusters(ctx context.Context, since time.Time) ([]ClusterSummary, error)
	// ClusterHistory returns one cluster's facts per day in [from, to].
	ClusterHistory(ctx context.Context, clientID string, from, to time.Time) ([]ClusterDay, error)
	// Uncounted lists, per day in [from, to], property and cluster, the
	// clusters with batches not counted (kept for the raw retention).
	Uncounted(ctx context.Context, from, to time.Time) ([]Uncounted, error)
	// AddIngestCounts adds counts to the ingest health tables.
	AddIngestCounts(ctx context.Context, counts []IngestCount) error
	// IngestCounts returns the summed counts per day in [from, to].
	IngestCounts(ctx context.Context, from, to time.Time) ([]IngestCount, error)
	// LastReports gives, per property, when a batch was last stored.
	LastReports(ctx context.Context) (map[string]time.Time, error)
	// Ping says whether the database answers.
	Ping(ctx context.Context) error

	// AddSession keeps an admin session under key until expires (and
	// drops those expired at now); SessionValid says whether key is a session
	// not expired at now; DeleteSession ends one. Every receiver on the
	// database sees them.
	AddSession(ctx context.Context, key string, now, expires time.Time) error
	SessionValid(ctx context.Context, key string, now time.Time) (bool, error)
	DeleteSession(ctx context.Context, key string) error
	// Close releases the database.
	Close() error
}

// ErrSchemaTooNew is returned by Open when the database was migrated by a
// newer receiver than this one.
var ErrSchemaTooNew = errors.New("the database schema is newer than this receiver knows")

// Day truncates t to its UTC date.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
