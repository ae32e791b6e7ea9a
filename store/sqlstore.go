package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mim-metrics/mim-metrics/facts"
)

// dialect is what differs between SQLite and PostgreSQL; everything else,
// most of the SQL included, is shared by sqlStore.
type dialect struct {
	name string
	// words replace {{word}} in the migrations.
	words map[string]string
	// numbered: placeholders are $1, $2... (the SQL is written with ?).
	numbered bool
	// multiRow: insert many rows with one statement (a network round trip
	// saved per row); else one prepared statement executed per row.
	multiRow bool
	// groupCommit: one writer goroutine commits concurrent batches together
	// (a database with a single writer connection).
	groupCommit bool
	// addInOneStatement, when set, stores a batch with a single statement
	// (one network round trip instead of one per statement).
	addInOneStatement func(ctx context.Context, db *sql.DB, r preparedBatch) (bool, error)
	// lockDay takes a transaction-level lock on a day's roll-ups. nil: the
	// database has a single writer (and roll-ups read a snapshot).
	lockDay func(ctx context.Context, tx *sql.Tx, day time.Time) error
	// lockMigrations serialises migrations by several receivers; nil: a
	// single writer.
	lockMigrations func(ctx context.Context, tx *sql.Tx) error
}

// sqlStore implements Store on database/sql for both dialects.
type sqlStore struct {
	d dialect
	w *sql.DB // writes (a single connection on SQLite)
	r *sql.DB // reads

	// prepared holds the writer's prepared statements by query (SQLite),
	// made before any use and only read after.
	prepared map[string]*sql.Stmt

	closeMore func() // releases what w and r are built on

	rollupMu sync.Mutex // one roll-up at a time (SQLite)

	// Profiles never change once stored: their ids by hash, their facts
	// by id.
	profilesMu   sync.Mutex
	profileIDs   map[string]int64
	profileFacts map[int64][]facts.Fact

	// The group-commit writer (SQLite); adds is nil without one.
	adds       chan *addRequest
	quit       chan struct{}
	writerDone chan struct{}
	closeOnce  sync.Once
}

// The shared SQL; ? placeholders, rebound for PostgreSQL.
const (
	// A batch with a DedupKey already stored inserts nothing, returns no id.
	insertBatch = `INSERT INTO batches (received, property, kind, client_id, report_key, country, counted, events_left, dedup_key)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING RETURNING id`

	insertEventsHead = `INSERT INTO events (batch_id, seq, name, params)`
	eventColumns     = 4

	upsertFactsHead = `INSERT INTO facts (day, property, client_id, dimension, value, amount)`
	upsertFactsTail = ` ON CONFLICT (day, property, client_id, dimension, value) DO UPDATE SET amount = ` + addAmountsSQL
	factColumns     = 6
	// addAmountsSQL adds a fact's amounts held at the int64 limit (they are
	// never negative): an overflow would be an error on PostgreSQL and a
	// float on SQLite, failing the batch or the day's roll-up.
	addAmountsSQL = `CASE WHEN excluded.amount <= 0 THEN facts.amount + excluded.amount
  WHEN facts.amount > 9223372036854775807 - excluded.amount THEN 9223372036854775807
  ELSE facts.amount + excluded.amount END`

	selectFirstSeen = `SELECT first_seen FROM clusters WHERE property = ? AND client_id = ?`

	upsertCluster = `INSERT INTO clusters (property, client_id, kind, first_seen, last_seen, counted) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (property, client_id) DO UPDATE SET
  kind = excluded.kind,
  first_seen = CASE WHEN excluded.first_seen < clusters.first_seen THEN excluded.first_seen ELSE clusters.first_seen END,
  last_seen = CASE WHEN excluded.last_seen > clusters.last_seen THEN excluded.last_seen ELSE clusters.last_seen END,
  counted = CASE WHEN excluded.counted > clusters.counted THEN excluded.counted ELSE clusters.counted END`

	insertMark = `INSERT INTO dirty_marks (day) VALUES (?)`

	insertRollupsHead = `INSERT INTO rollups (day, kind, version, dimension, value, clusters, amount)`
	rollupColumns     = 7

	savepoint           = `SAVEPOINT batch`
	rollbackToSavepoint = `ROLLBACK TO batch`
	releaseSavepoint    = `RELEASE batch`

	upsertIngest = `INSERT INTO ingest_counts (day, property, name, reason, n) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (day, property, name, reason) DO UPDATE SET n = ingest_counts.n + excluded.n`
)

// preparedQueries are prepared once on the writer when the dialect inserts
// row by row.
var preparedQueries = []string{
	insertBatch,
	insertEventsHead + placeholders(eventColumns, 1),
	upsertFactsHead + placeholders(factColumns, 1) + upsertFactsTail,
	selectFirstSeen,
	upsertCluster,
	insertMark,
	insertRollupsHead + placeholders(rollupColumns, 1),
	insertRunsHead + placeholders(runColumns, 1),
	upsertIngest,
	savepoint, rollbackToSavepoint, releaseSavepoint,
}

// maxRowsPerInsert bounds a multi-row insert (placeholders per statement).
const maxRowsPerInsert = 100

// newSQLStore migrates the database and prepares the writer's statements.
func newSQLStore(ctx context.Context, d dialect, w, r *sql.DB, closeMore func()) (*sqlStore, error) {
	s := &sqlStore{d: d, w: w, r: r, prepared: map[string]*sql.Stmt{}, closeMore: closeMore,
		profileIDs: map[string]int64{}, profileFacts: map[int64][]facts.Fact{}}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if !d.multiRow {
		for _, q := range preparedQueries {
			st, err := w.PrepareContext(ctx, s.rebind(q))
			if err != nil {
				s.Close()
				return nil, fmt.Errorf("prepare %.40q: %w", q, err)
			}
			s.prepared[q] = st
		}
	}
	s.quit = make(chan struct{})
	if d.groupCommit {
		s.adds, s.writerDone = make(chan *addRequest), make(chan struct{})
		go s.writeGroups()
	}
	return s, nil
}

// rebind turns ? placeholders into $n for PostgreSQL.
func (s *sqlStore) rebind(q string) string {
	if !s.d.numbered || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// placeholders returns " VALUES (?, ...), ..." for rows rows of cols columns.
func placeholders(cols, rows int) string {
	row := "(" + strings.Repeat("?, ", cols-1) + "?)"
	return " VALUES " + strings.Repeat(row+", ", rows-1) + row
}

// exec runs q in tx, prepared when the writer has it prepared.
func (s *sqlStore) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if st, ok := s.prepared[q]; ok {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, s.rebind(q), args...)
}

// queryRow runs q in tx, prepared when the writer has it prepared.
func (s *sqlStore) queryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	if st, ok := s.prepared[q]; ok {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, s.rebind(q), args...)
}

// insertRows inserts the rows in args (cols values each) with head (the
// INSERT INTO ... part) and tail (an ON CONFLICT clause).
func (s *sqlStore) insertRows(ctx context.Context, tx *sql.Tx, head, tail string, cols int, args []any) error {
	rows := len(args) / cols
	if !s.d.multiRow {
		q := head + placeholders(cols, 1) + tail
		for i := 0; i < rows; i++ {
			if _, err := s.exec(ctx, tx, q, args[i*cols:(i+1)*cols]...); err != nil {
				return err
			}
		}
		return nil
	}
	for start := 0; start < rows; start += maxRowsPerInsert {
		end := min(rows, start+maxRowsPerInsert)
		q := head + placeholders(cols, end-start) + tail
		if _, err := s.exec(ctx, tx, q, args[start*cols:end*cols]...); err != nil {
			return err
		}
	}
	return nil
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// dayText is the stored form of a day.
func dayText(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func parseDay(s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored day %q: %w", s, err)
	}
	return t, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

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

func (s *sqlStore) RollUp(ctx context.Context, day time.Time) error {
	if err := s.rollUp(ctx, Day(day)); err != nil {
		return fmt.Errorf("roll up %s: %w", dayText(day), err)
	}
	return nil
}

func (s *sqlStore) rollUp(ctx context.Context, day time.Time) error {
	if s.d.lockDay == nil {
		return s.rollUpFromSnapshot(ctx, day)
	}
	return s.rollUpLocked(ctx, day)
}

// rollUpLocked (PostgreSQL) computes a day in one transaction under the
// day's advisory lock: one roll-up of a day at a time, while batches take
// no lock. The day's marks go first: a batch whose mark is deleted had
// committed, so the facts read next include its; a batch committing later
// keeps its mark for the next roll-up.
func (s *sqlStore) rollUpLocked(ctx context.Context, day time.Time) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := s.d.lockDay(ctx, tx, day); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM dirty_marks WHERE day = ?`), dayText(day)); err != nil {
		return err
	}
	r := newRollup(day)
	if err := s.readDayFacts(ctx, tx, day, r); err != nil {
		return err
	}
	if err := s.writeRollups(ctx, tx, day, r.rows()); err != nil {
		return err
	}
	cache, err := s.updateRuns(ctx, tx, day, r.profiles)
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	cache()
	return nil
}

// rollUpFromSnapshot (SQLite) reads the day's facts in a snapshot on a
// reader connection, so that batches are not held up meanwhile, then
// replaces the rows in one short write transaction that also deletes the
// marks the snapshot saw (marks are numbered in commit order: one writer,
// AUTOINCREMENT). A store's roll-ups run one at a time.
func (s *sqlStore) rollUpFromSnapshot(ctx context.Context, day time.Time) error {
	s.rollupMu.Lock()
	defer s.rollupMu.Unlock()
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
	rows := r.rows()

	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := s.writeRollups(ctx, tx, day, rows); err != nil {
		return err
	}
	cache, err := s.updateRuns(ctx, tx, day, r.profiles)
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
	return s.insertRows(ctx, tx, insertRollupsHead, "", rollupColumns, args)
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

func (s *sqlStore) AddIngestCounts(ctx context.Context, counts []IngestCount) error {
	if len(counts) == 0 {
		return nil
	}
	err := func() error {
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for _, c := range counts {
			if _, err := s.exec(ctx, tx, upsertIngest, dayText(c.Day), c.Property, c.Name, c.Reason, c.N); err != nil {
				return err
			}
		}
		return tx.Commit()
	}()
	if err != nil {
		return fmt.Errorf("add ingest counts: %w", err)
	}
	return nil
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

func (s *sqlStore) Ping(ctx context.Context) error {
	var one int
	if err := s.r.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("%s: %w", s.d.name, err)
	}
	return nil
}

func (s *sqlStore) Close() error {
	s.closeOnce.Do(func() {
		if s.quit != nil {
			close(s.quit)
		}
	})
	if s.writerDone != nil {
		<-s.writerDone
	}
	for _, st := range s.prepared {
		st.Close()
	}
	err := s.w.Close()
	if s.r != s.w {
		if rerr := s.r.Close(); err == nil {
			err = rerr
		}
	}
	if s.closeMore != nil {
		s.closeMore()
	}
	return err
}
