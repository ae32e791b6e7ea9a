package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/mim-metrics/mim-metrics/facts"
)

// errClosed is what AddBatch returns after Close.
var errClosed = errors.New("the store is closed")

// Group commit (SQLite): concurrent AddBatch calls are written by one
// goroutine in one transaction, each in a savepoint of its own, so that
// they share one commit and one fsync instead of queueing for the single
// writer connection one commit after the other.
const (
	maxGroup     = 64
	groupTimeout = time.Minute
)

// preparedBatch is one batch's row values, made before the transaction.
type preparedBatch struct {
	day       time.Time
	received  int64
	b         *Batch
	reportKey string
	params    []string // each event's params as JSON
	facts     []any    // factColumns values per fact
	factList  []facts.Fact
}

type addRequest struct {
	ctx   context.Context
	batch preparedBatch
	done  chan addResult // buffered: the writer never waits for the caller
}

type addResult struct {
	stored bool
	err    error
}

func (s *sqlStore) AddBatch(ctx context.Context, b Batch) (bool, error) {
	stored, err := s.addBatch(ctx, b)
	if err != nil {
		return false, fmt.Errorf("store batch: %w", classify(err))
	}
	return stored, nil
}

func (s *sqlStore) addBatch(ctx context.Context, b Batch) (bool, error) {
	r, err := prepareBatch(&b)
	if err != nil {
		return false, err
	}
	if s.d.addInOneStatement != nil {
		return s.d.addInOneStatement(ctx, s.w, r)
	}
	req := &addRequest{ctx: ctx, batch: r, done: make(chan addResult, 1)}
	select {
	case s.adds <- req:
	case <-ctx.Done():
		return false, ctx.Err()
	case <-s.quit:
		return false, errClosed
	}
	res := <-req.done
	return res.stored, res.err
}

// prepareBatch turns b into the values of its rows.
func prepareBatch(b *Batch) (preparedBatch, error) {
	received := b.Received.UTC()
	if received.IsZero() {
		received = time.Now().UTC()
	}
	r := preparedBatch{day: Day(received), received: micros(received), b: b}
	reportKey := b.ReportKey
	if reportKey == "" {
		reportKey = uuid.NewString()
	}
	r.reportKey = reportKey
	r.params = make([]string, len(b.Events))
	for i, e := range b.Events {
		params, err := json.Marshal(e.Params)
		if err != nil {
			return preparedBatch{}, fmt.Errorf("event %s: %w", e.Name, err)
		}
		r.params[i] = string(params)
	}
	if b.Counted {
		fs := facts.FromEvents(b.Events, b.Country)
		r.factList = fs
		r.facts = make([]any, 0, len(fs)*factColumns)
		for _, f := range fs {
			r.facts = append(r.facts, dayText(r.day), b.Property, b.ClientID, f.Dimension, f.Value, f.Amount)
		}
	}
	return r, nil
}

// writeRows writes one batch in tx; false when its DedupKey is stored.
func (s *sqlStore) writeRows(ctx context.Context, tx *sql.Tx, r preparedBatch) (bool, error) {
	b := r.b
	var dedupKey any // NULL: no key, never a conflict
	if b.DedupKey != "" {
		dedupKey = b.DedupKey
	}
	var id int64
	err := s.queryRow(ctx, tx, insertBatch, r.received, b.Property, string(b.Kind), b.ClientID, r.reportKey, b.Country,
		boolInt(b.Counted), len(b.Events), dedupKey).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // a retried request
	}
	if err != nil {
		return false, err
	}
	events := make([]any, 0, len(b.Events)*eventColumns)
	for i, e := range b.Events {
		events = append(events, id, i, e.Name, r.params[i])
	}
	if err := s.insertRows(ctx, tx, insertEventsHead, "", eventColumns, events); err != nil {
		return false, err
	}
	if err := s.insertRows(ctx, tx, upsertFactsHead, upsertFactsTail, factColumns, r.facts); err != nil {
		return false, err
	}
	// A batch older than the cluster's first (an imported report) makes
	// that first day's "new" a "returning": that day is marked too.
	var firstSeen int64
	switch err := s.queryRow(ctx, tx, selectFirstSeen, b.Property, b.ClientID).Scan(&firstSeen); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return false, err
	case r.received < firstSeen && dayText(fromMicros(firstSeen)) != dayText(r.day):
		if _, err := s.exec(ctx, tx, insertMark, dayText(fromMicros(firstSeen))); err != nil {
			return false, err
		}
	}
	if _, err := s.exec(ctx, tx, upsertCluster, b.Property, b.ClientID, string(b.Kind),
		r.received, r.received, boolInt(b.Counted)); err != nil {
		return false, err
	}
	// The day's roll-ups are to be computed again (DaysToRollUp).
	if len(r.facts) > 0 {
		if _, err := s.exec(ctx, tx, insertMark, dayText(r.day)); err != nil {
			return false, err
		}
	}
	return true, nil
}

// writeGroups is the SQLite writer: it takes the requests waiting, up to
// maxGroup, and commits them together, until Close.
func (s *sqlStore) writeGroups() {
	defer close(s.writerDone)
	for {
		var group []*addRequest
		select {
		case req := <-s.adds:
			group = append(group, req)
		case <-s.quit:
			return
		}
	more:
		for len(group) < maxGroup {
			select {
			case req := <-s.adds:
				group = append(group, req)
			default:
				break more
			}
		}
		s.commitGroup(group)
	}
}

// commitGroup writes the group's batches in one transaction. A batch that
// fails is rolled back to its savepoint and gets its error; the others are
// committed. Statements run under the writer's deadline, not the callers'
// contexts: an interrupted statement would roll back the whole group.
func (s *sqlStore) commitGroup(group []*addRequest) {
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	results := make([]addResult, len(group))
	err := func() error {
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for i, req := range group {
			if err := req.ctx.Err(); err != nil {
				results[i].err = err
				continue
			}
			if _, err := s.exec(ctx, tx, savepoint); err != nil {
				return err
			}
			stored, err := s.writeRows(ctx, tx, req.batch)
			if err != nil {
				if _, rerr := s.exec(ctx, tx, rollbackToSavepoint); rerr != nil {
					return rerr
				}
			}
			if _, err := s.exec(ctx, tx, releaseSavepoint); err != nil {
				return err
			}
			results[i] = addResult{stored, err}
		}
		return tx.Commit()
	}()
	for i, req := range group {
		if err != nil && results[i].err == nil {
			results[i] = addResult{false, err}
		}
		req.done <- results[i]
	}
}
