package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mim-metrics/mim-metrics/facts"
)

func (s *sqlStore) Export(ctx context.Context, since, until time.Time, fn func(StoredEvent) error) error {
	rows, err := s.r.QueryContext(ctx, s.rebind(`SELECT b.received, b.property, b.kind, b.client_id, b.report_key, b.country, e.name, e.params
FROM batches b JOIN events e ON e.batch_id = b.id
WHERE b.received >= ? AND b.received < ? ORDER BY b.received, b.id, e.seq`), micros(since), micros(until))
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e StoredEvent
		var received int64
		var kind, params string
		if err := rows.Scan(&received, &e.Property, &kind, &e.ClientID, &e.ReportKey, &e.Country, &e.Name, &params); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		e.Received, e.Kind = fromMicros(received), Kind(kind)
		if e.Params, err = decodeParams(params); err != nil {
			return fmt.Errorf("export: event %s: %w", e.Name, err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// decodeParams reads stored params, numbers as int64 as they were sent.
func decodeParams(text string) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader([]byte(text)))
	d.UseNumber()
	params := map[string]any{}
	if err := d.Decode(&params); err != nil {
		return nil, err
	}
	for k, v := range params {
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				params[k] = i
			}
		}
	}
	return params, nil
}

// rollupsWhere is the WHERE clause selecting q's roll-up rows, and its
// arguments.
func rollupsWhere(q RollupQuery) (string, []any) {
	version := q.Version
	if version == "" {
		version = facts.AllVersions
	}
	where := ` WHERE day >= ? AND day <= ? AND version = ?`
	args := []any{dayText(q.From), dayText(q.To), version}
	if q.Kind != "" {
		where += ` AND kind = ?`
		args = append(args, string(q.Kind))
	}
	if len(q.Dimensions) > 0 {
		where += ` AND dimension IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(q.Dimensions)), ", ") + `)`
		for _, d := range q.Dimensions {
			args = append(args, d)
		}
	}
	return where, args
}

func (s *sqlStore) Rollups(ctx context.Context, q RollupQuery) ([]RollupRow, error) {
	where, args := rollupsWhere(q)
	query := `SELECT day, kind, version, dimension, value, clusters, amount FROM rollups` + where + ` ORDER BY day, dimension, value, kind`
	rows, err := s.r.QueryContext(ctx, s.rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("roll-ups: %w", err)
	}
	defer rows.Close()
	var out []RollupRow
	for rows.Next() {
		var r RollupRow
		var day, kind string
		if err := rows.Scan(&day, &kind, &r.Version, &r.Dimension, &r.Value, &r.Clusters, &r.Sum); err != nil {
			return nil, fmt.Errorf("roll-ups: %w", err)
		}
		if r.Day, err = parseDay(day); err != nil {
			return nil, err
		}
		r.Kind = Kind(kind)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("roll-ups: %w", err)
	}
	return out, nil
}

func (s *sqlStore) Uncounted(ctx context.Context, from, to time.Time) ([]Uncounted, error) {
	rows, err := s.r.QueryContext(ctx, s.rebind(`SELECT received / 86400000000 AS d, property, client_id FROM batches
WHERE counted = 0 AND received >= ? AND received < ? GROUP BY d, property, client_id ORDER BY d, property, client_id`),
		micros(Day(from)), micros(Day(to).AddDate(0, 0, 1)))
	if err != nil {
		return nil, fmt.Errorf("uncounted clusters: %w", err)
	}
	defer rows.Close()
	var out []Uncounted
	for rows.Next() {
		var u Uncounted
		var day int64
		if err := rows.Scan(&day, &u.Property, &u.ClientID); err != nil {
			return nil, fmt.Errorf("uncounted clusters: %w", err)
		}
		u.Day = fromDayNumber(day)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("uncounted clusters: %w", err)
	}
	return out, nil
}

func (s *sqlStore) Clusters(ctx context.Context, since time.Time) ([]ClusterSummary, error) {
	rows, err := s.r.QueryContext(ctx, s.rebind(`SELECT client_id, property, kind, first_seen, last_seen, counted
FROM clusters WHERE last_seen >= ? ORDER BY last_seen DESC, property, client_id`), micros(since))
	if err != nil {
		return nil, fmt.Errorf("clusters: %w", err)
	}
	defer rows.Close()
	var out []ClusterSummary
	for rows.Next() {
		var c ClusterSummary
		var kind string
		var first, last int64
		var counted int
		if err := rows.Scan(&c.ClientID, &c.Property, &kind, &first, &last, &counted); err != nil {
			return nil, fmt.Errorf("clusters: %w", err)
		}
		c.Kind, c.FirstSeen, c.LastSeen, c.Counted = Kind(kind), fromMicros(first), fromMicros(last), counted != 0
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("clusters: %w", err)
	}
	return out, nil
}

func (s *sqlStore) ClusterHistory(ctx context.Context, clientID string, from, to time.Time) ([]ClusterDay, error) {
	rows, err := s.r.QueryContext(ctx, s.rebind(`SELECT day, property, dimension, value, amount FROM facts
WHERE client_id = ? AND day >= ? AND day <= ? ORDER BY day, property, dimension, value`), clientID, dayText(from), dayText(to))
	if err != nil {
		return nil, fmt.Errorf("cluster history: %w", err)
	}
	defer rows.Close()
	var out []ClusterDay
	for rows.Next() {
		var day, property string
		var f facts.Fact
		if err := rows.Scan(&day, &property, &f.Dimension, &f.Value, &f.Amount); err != nil {
			return nil, fmt.Errorf("cluster history: %w", err)
		}
		d, err := parseDay(day)
		if err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || !out[n-1].Day.Equal(d) || out[n-1].Property != property {
			out = append(out, ClusterDay{Day: d, Property: property})
		}
		out[len(out)-1].Facts = append(out[len(out)-1].Facts, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cluster history: %w", err)
	}
	return out, nil
}

func (s *sqlStore) IngestCounts(ctx context.Context, from, to time.Time) ([]IngestCount, error) {
	rows, err := s.r.QueryContext(ctx, s.rebind(`SELECT day, property, name, reason, n FROM ingest_counts
WHERE day >= ? AND day <= ? ORDER BY day, property, name, reason`), dayText(from), dayText(to))
	if err != nil {
		return nil, fmt.Errorf("ingest counts: %w", err)
	}
	defer rows.Close()
	var out []IngestCount
	for rows.Next() {
		var c IngestCount
		var day string
		if err := rows.Scan(&day, &c.Property, &c.Name, &c.Reason, &c.N); err != nil {
			return nil, fmt.Errorf("ingest counts: %w", err)
		}
		if c.Day, err = parseDay(day); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ingest counts: %w", err)
	}
	return out, nil
}

// maxProperties bounds LastReports' walk over the properties (a receiver
// has a few).
const maxProperties = 10000

// LastReports walks the properties one at a time, each from the indexes
// (the primary key gives the next property, clusters_property_last_seen
// its latest report): a few index reads per property, however many
// clusters.
func (s *sqlStore) LastReports(ctx context.Context) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	after := ""
	for range maxProperties {
		var property sql.NullString
		if err := s.r.QueryRowContext(ctx, s.rebind(`SELECT MIN(property) FROM clusters WHERE property > ?`), after).Scan(&property); err != nil {
			return nil, fmt.Errorf("last reports: %w", err)
		}
		if !property.Valid {
			break
		}
		var last int64
		if err := s.r.QueryRowContext(ctx, s.rebind(`SELECT MAX(last_seen) FROM clusters WHERE property = ?`), property.String).Scan(&last); err != nil {
			return nil, fmt.Errorf("last reports: %w", err)
		}
		out[property.String], after = fromMicros(last), property.String
	}
	return out, nil
}
