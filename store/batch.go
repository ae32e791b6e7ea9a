package store

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/mim-metrics/mim-metrics/facts"
)

// The batch write, each rule once: the batch row, then the parts it adds,
// each one SQL statement that reads the new batch row from b, a table of
// its id alone. When the batch's DedupKey is stored already, there is no
// batch row, b is empty and no part writes anything (a retried request).
// How the statements run is the writer's (batchWriter): SQLite runs the
// parts one after the other in the writer's transaction, PostgreSQL as the
// WITH clauses of one statement (one round trip). No part reads what
// another writes, except first_day_mark, which reads the cluster's row
// before the cluster part moves it: SQLite runs it first, and
// PostgreSQL's clauses all read the tables as they were before the
// statement.

// batchArgs names the values of one batch's write, @name in the SQL below,
// in the order they are passed ($1, $2...).
var batchArgs = []string{
	"received", "property", "kind", "client_id", "report_key", "country", "counted",
	"events_left", "dedup_key", "events", "day", "facts", "fact_count",
	"batch_id", // SQLite only: the id its batch row got
}

const insertBatch = `INSERT INTO batches (received, property, kind, client_id, report_key, country, counted, events_left, dedup_key)
VALUES (@received, @property, @kind, @client_id, @report_key, @country, @counted, @events_left, @dedup_key)
ON CONFLICT (dedup_key) DO NOTHING RETURNING id`

// addAmountsSQL adds a fact's amounts held at the int64 limit (they are
// never negative): an overflow would be an error on PostgreSQL and a
// float on SQLite, failing the batch or the day's roll-up.
const addAmountsSQL = `CASE WHEN excluded.amount <= 0 THEN facts.amount + excluded.amount
  WHEN facts.amount > 9223372036854775807 - excluded.amount THEN 9223372036854775807
  ELSE facts.amount + excluded.amount END`

// batchPart is one statement of the batch write; name is its WITH clause's.
type batchPart struct{ name, sql string }

// batchParts are the statements that follow the batch row, in d's SQL.
func batchParts(d dialect) []batchPart {
	return []batchPart{
		// Its events: [seq, name, params as JSON text] each.
		{"new_events", `INSERT INTO events (batch_id, seq, name, params)
SELECT b.id, CAST(e.value ->> 0 AS INTEGER), e.value ->> 1, e.value ->> 2 FROM b, ` + d.jsonRows("@events", "e")},
		// The day's facts of its cluster, amounts added: [dimension,
		// value, amount] each, in FromEvents' order, so that concurrent
		// batches of one cluster lock the same rows in the same order
		// (PostgreSQL: no deadlock).
		{"new_facts", `INSERT INTO facts (day, property, client_id, dimension, value, amount)
SELECT @day, @property, @client_id, f.value ->> 0, f.value ->> 1, CAST(f.value ->> 2 AS BIGINT) FROM b, ` + d.jsonRows("@facts", "f") + `
WHERE true ON CONFLICT (day, property, client_id, dimension, value) DO UPDATE SET amount = ` + addAmountsSQL},
		// A batch older than its cluster's first (an imported report)
		// moves the cluster's new day (facts.Age): the former first day
		// is rolled up again.
		{"first_day_mark", `INSERT INTO dirty_marks (day)
SELECT ` + d.dayOfMicros("c.first_seen") + ` FROM b, clusters c
WHERE c.property = @property AND c.client_id = @client_id AND c.first_seen > @received
  AND ` + d.dayOfMicros("c.first_seen") + ` <> @day`},
		// The cluster: first and last seen stretched to the batch, its
		// property's latest kind, counted once any batch is.
		{"cluster", `INSERT INTO clusters (property, client_id, kind, first_seen, last_seen, counted)
SELECT @property, @client_id, @kind, @received, @received, @counted FROM b
WHERE true ON CONFLICT (property, client_id) DO UPDATE SET
  kind = excluded.kind,
  first_seen = CASE WHEN excluded.first_seen < clusters.first_seen THEN excluded.first_seen ELSE clusters.first_seen END,
  last_seen = CASE WHEN excluded.last_seen > clusters.last_seen THEN excluded.last_seen ELSE clusters.last_seen END,
  counted = CASE WHEN excluded.counted > clusters.counted THEN excluded.counted ELSE clusters.counted END`},
		// The day's roll-ups are to be computed again (DaysToRollUp).
		{"day_mark", `INSERT INTO dirty_marks (day) SELECT @day FROM b WHERE @fact_count > 0`},
	}
}

// bindBatchArgs turns the @names of q into $n, n the name's place in
// batchArgs (both drivers read $n as the n-th argument).
func bindBatchArgs(q string) string {
	return batchArgName.ReplaceAllStringFunc(q, func(name string) string {
		i := slices.Index(batchArgs, name[1:])
		if i < 0 {
			panic("store: unknown batch argument " + name) // the statements are constants
		}
		return "$" + strconv.Itoa(i+1)
	})
}

var batchArgName = regexp.MustCompile(`@[a-z_]+`)

// preparedBatch is one batch's values, made before any transaction, in
// batchArgs' order (without batch_id, the last).
type preparedBatch struct {
	args []any
}

// prepareBatch derives b's values: its facts (facts.FromEvents; none when
// it is not counted), its day, and its events and facts as JSON rows.
func prepareBatch(b *Batch) (preparedBatch, error) {
	received := b.Received.UTC()
	if received.IsZero() {
		received = time.Now().UTC()
	}
	reportKey := b.ReportKey
	if reportKey == "" {
		reportKey = uuid.NewString()
	}
	var dedupKey any // NULL: no key, never a conflict
	if b.DedupKey != "" {
		dedupKey = b.DedupKey
	}
	// The rows as arrays of strings (numbers too: the SQL casts them),
	// cheaper to encode than of mixed values.
	events := make([][3]string, len(b.Events))
	for i, e := range b.Events {
		params, err := json.Marshal(e.Params)
		if err != nil {
			return preparedBatch{}, fmt.Errorf("event %s: %w", e.Name, err)
		}
		events[i] = [3]string{strconv.Itoa(i), e.Name, string(params)}
	}
	var fs []facts.Fact
	if b.Counted {
		fs = facts.FromEvents(b.Events, b.Country)
	}
	factRows := make([][3]string, len(fs))
	for i, f := range fs {
		factRows[i] = [3]string{f.Dimension, f.Value, strconv.FormatInt(f.Amount, 10)}
	}
	eventsJSON, err := json.Marshal(events)
	if err != nil {
		return preparedBatch{}, err
	}
	factsJSON, err := json.Marshal(factRows)
	if err != nil {
		return preparedBatch{}, err
	}
	values := map[string]any{
		"received": micros(received), "property": b.Property, "kind": string(b.Kind), "client_id": b.ClientID,
		"report_key": reportKey, "country": b.Country, "counted": boolInt(b.Counted), "events_left": len(b.Events),
		"dedup_key": dedupKey, "events": string(eventsJSON), "day": dayText(received), "facts": string(factsJSON),
		"fact_count": len(fs),
	}
	args := make([]any, 0, len(batchArgs))
	for _, name := range batchArgs[:len(batchArgs)-1] { // batch_id: the SQLite writer's
		v, ok := values[name]
		if !ok {
			return preparedBatch{}, fmt.Errorf("no value for the batch's %s", name)
		}
		args = append(args, v)
	}
	return preparedBatch{args: args}, nil
}
