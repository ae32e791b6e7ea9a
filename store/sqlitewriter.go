package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// sqliteWriter is SQLite's batchWriter, a group commit: concurrent writes
// are taken by one goroutine and written in one transaction, each in a
// savepoint of its own, so that they share one commit and one fsync
// instead of queueing for the single writer connection one commit after
// the other. Its statements are prepared once on that connection.
type sqliteWriter struct {
	db *sql.DB // the writer connection

	insertBatch *sql.Stmt
	parts       []*sql.Stmt
	savepoint   [3]*sql.Stmt // SAVEPOINT, ROLLBACK TO, RELEASE

	requests  chan *writeRequest
	quit      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// The group commit's bounds.
const (
	maxGroup     = 64
	groupTimeout = time.Minute
)

type writeRequest struct {
	ctx   context.Context
	batch preparedBatch
	done  chan writeResult // buffered: the writer never waits for the caller
}

type writeResult struct {
	stored bool
	err    error
}

// newSQLiteWriter prepares the batch statements on db, SQLite's single
// writer connection, and starts the writer.
func newSQLiteWriter(ctx context.Context, db *sql.DB, d dialect) (*sqliteWriter, error) {
	w := &sqliteWriter{db: db, requests: make(chan *writeRequest), quit: make(chan struct{}), done: make(chan struct{})}
	prepare := func(q string) (*sql.Stmt, error) {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			w.closeStatements()
			return nil, fmt.Errorf("prepare %.40q: %w", q, err)
		}
		return st, nil
	}
	var err error
	if w.insertBatch, err = prepare(bindBatchArgs(insertBatch)); err != nil {
		return nil, err
	}
	for _, p := range batchParts(d) {
		// b is the batch row's id alone.
		st, err := prepare(bindBatchArgs(`WITH b (id) AS (SELECT @batch_id) ` + p.sql))
		if err != nil {
			return nil, err
		}
		w.parts = append(w.parts, st)
	}
	for i, q := range []string{`SAVEPOINT batch`, `ROLLBACK TO batch`, `RELEASE batch`} {
		if w.savepoint[i], err = prepare(q); err != nil {
			return nil, err
		}
	}
	go w.writeGroups()
	return w, nil
}

func (w *sqliteWriter) write(ctx context.Context, b preparedBatch) (bool, error) {
	req := &writeRequest{ctx: ctx, batch: b, done: make(chan writeResult, 1)}
	select {
	case w.requests <- req:
	case <-ctx.Done():
		return false, ctx.Err()
	case <-w.quit:
		return false, errClosed
	}
	res := <-req.done
	return res.stored, res.err
}

func (w *sqliteWriter) close() {
	w.closeOnce.Do(func() { close(w.quit) })
	<-w.done
	w.closeStatements()
}

func (w *sqliteWriter) closeStatements() {
	for _, st := range append(w.parts, w.insertBatch, w.savepoint[0], w.savepoint[1], w.savepoint[2]) {
		if st != nil {
			st.Close()
		}
	}
}

// writeGroups takes the requests waiting, up to maxGroup, and commits them
// together, until close.
func (w *sqliteWriter) writeGroups() {
	defer close(w.done)
	for {
		var group []*writeRequest
		select {
		case req := <-w.requests:
			group = append(group, req)
		case <-w.quit:
			return
		}
	more:
		for len(group) < maxGroup {
			select {
			case req := <-w.requests:
				group = append(group, req)
			default:
				break more
			}
		}
		w.commitGroup(group)
	}
}

// commitGroup writes the group's batches in one transaction. A batch that
// fails is rolled back to its savepoint and gets its error; the others are
// committed. Statements run under the writer's deadline, not the callers'
// contexts: an interrupted statement would roll back the whole group.
func (w *sqliteWriter) commitGroup(group []*writeRequest) {
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	results := make([]writeResult, len(group))
	err := func() error {
		tx, err := w.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for i, req := range group {
			if err := req.ctx.Err(); err != nil {
				results[i].err = err
				continue
			}
			if _, err := tx.StmtContext(ctx, w.savepoint[0]).ExecContext(ctx); err != nil {
				return err
			}
			stored, err := w.writeOne(ctx, tx, req.batch)
			if err != nil {
				if _, rerr := tx.StmtContext(ctx, w.savepoint[1]).ExecContext(ctx); rerr != nil {
					return rerr
				}
			}
			if _, err := tx.StmtContext(ctx, w.savepoint[2]).ExecContext(ctx); err != nil {
				return err
			}
			results[i] = writeResult{stored, err}
		}
		return tx.Commit()
	}()
	for i, req := range group {
		if err != nil && results[i].err == nil {
			results[i] = writeResult{false, err}
		}
		req.done <- results[i]
	}
}

// writeOne writes one batch in tx: its row, then its parts in order.
func (w *sqliteWriter) writeOne(ctx context.Context, tx *sql.Tx, b preparedBatch) (bool, error) {
	var id int64
	err := tx.StmtContext(ctx, w.insertBatch).QueryRowContext(ctx, b.args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // a retried request
	}
	if err != nil {
		return false, err
	}
	args := append(b.args[:len(b.args):len(b.args)], id)
	for _, st := range w.parts {
		if _, err := tx.StmtContext(ctx, st).ExecContext(ctx, args...); err != nil {
			return false, err
		}
	}
	return true, nil
}
