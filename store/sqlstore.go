package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/mim-metrics/mim-metrics/facts"
)

// sqlStore implements Store on database/sql for both databases: the
// queries are shared, in the dialect's SQL text; batches are written by
// its batchWriter and days rolled up by its dayRoller.
type sqlStore struct {
	d      dialect
	w      *sql.DB // writes (a single connection on SQLite)
	r      *sql.DB // reads
	writer batchWriter
	roller dayRoller

	closeMore func() // releases what w and r are built on
	closeOnce sync.Once
	closeErr  error

	// Profiles never change once stored: their ids by hash, their facts
	// by id.
	profilesMu   sync.Mutex
	profileIDs   map[string]int64
	profileFacts map[int64][]facts.Fact
}

// maxRowsPerInsert bounds a multi-row insert (placeholders per statement).
const maxRowsPerInsert = 100

// newSQLStore migrates the database; the caller sets writer and roller.
func newSQLStore(ctx context.Context, d dialect, w, r *sql.DB, closeMore func()) (*sqlStore, error) {
	s := &sqlStore{d: d, w: w, r: r, closeMore: closeMore,
		profileIDs: map[string]int64{}, profileFacts: map[int64][]facts.Fact{}}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// rebind turns ? placeholders into the dialect's.
func (s *sqlStore) rebind(q string) string { return s.d.rebind(q) }

// insertRows inserts the rows in args (cols values each) with head (the
// INSERT INTO ... part), maxRowsPerInsert rows a statement.
func (s *sqlStore) insertRows(ctx context.Context, tx *sql.Tx, head string, cols int, args []any) error {
	rows := len(args) / cols
	for start := 0; start < rows; start += maxRowsPerInsert {
		end := min(rows, start+maxRowsPerInsert)
		q := head + placeholders(cols, end-start)
		if _, err := tx.ExecContext(ctx, s.rebind(q), args[start*cols:end*cols]...); err != nil {
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

func (s *sqlStore) AddBatch(ctx context.Context, b Batch) (bool, error) {
	stored, err := s.addBatch(ctx, b)
	if err != nil {
		return false, fmt.Errorf("store batch: %w", classify(err))
	}
	return stored, nil
}

func (s *sqlStore) addBatch(ctx context.Context, b Batch) (bool, error) {
	p, err := prepareBatch(&b)
	if err != nil {
		return false, err
	}
	return s.writer.write(ctx, p)
}

const upsertIngest = `INSERT INTO ingest_counts (day, property, name, reason, n) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (day, property, name, reason) DO UPDATE SET n = ingest_counts.n + excluded.n`

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
			if _, err := tx.ExecContext(ctx, s.rebind(upsertIngest), dayText(c.Day), c.Property, c.Name, c.Reason, c.N); err != nil {
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

func (s *sqlStore) Ping(ctx context.Context) error {
	var one int
	if err := s.r.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("%s: %w", s.d.name, err)
	}
	return nil
}

func (s *sqlStore) Close() error {
	s.closeOnce.Do(func() {
		if s.writer != nil {
			s.writer.close()
		}
		s.closeErr = s.w.Close()
		if s.r != s.w {
			if err := s.r.Close(); s.closeErr == nil {
				s.closeErr = err
			}
		}
		if s.closeMore != nil {
			s.closeMore()
		}
	})
	return s.closeErr
}
