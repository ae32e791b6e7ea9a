package store

import (
	"context"
	"database/sql"
	"strings"
)

// postgresWriter is PostgreSQL's batchWriter: a batch is one statement, so
// one round trip and one implicit transaction, the batch row and its parts
// as data-modifying WITH clauses. Concurrent batches each commit on a
// connection of their own; the server groups their WAL flushes.
type postgresWriter struct {
	db *sql.DB
	// statement is the batch's write; it returns 1 when the batch row was
	// inserted, 0 when its DedupKey is stored.
	statement string
}

func newPostgresWriter(db *sql.DB, d dialect) *postgresWriter {
	var q strings.Builder
	q.WriteString("WITH b AS (\n" + insertBatch + "\n)")
	for _, p := range batchParts(d) {
		q.WriteString(", " + p.name + " AS (\n" + p.sql + "\n)")
	}
	q.WriteString("\nSELECT count(*) FROM b")
	return &postgresWriter{db: db, statement: bindBatchArgs(q.String())}
}

func (w *postgresWriter) write(ctx context.Context, b preparedBatch) (bool, error) {
	var stored int
	if err := w.db.QueryRowContext(ctx, w.statement, b.args...).Scan(&stored); err != nil {
		return false, err
	}
	return stored == 1, nil
}

// close has nothing to stop: each write is its caller's.
func (w *postgresWriter) close() {}
