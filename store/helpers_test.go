package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" for raw access to the test databases

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/store"
	"github.com/mim-metrics/mim-metrics/test/pgtest"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { pgtest.Main(m, &pg) }

// stepTimeout bounds each store call of a test, generous for a loaded machine.
const stepTimeout = time.Minute

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	t.Cleanup(cancel)
	return ctx
}

// forEachDB runs fn with the DSN of a fresh SQLite file and of a fresh
// database on the test PostgreSQL server.
func forEachDB(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, "sqlite:"+filepath.Join(t.TempDir(), "test.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, pg.NewDatabase(t))
	})
}

// forEachStore runs fn with an open store of each kind, closed at the end.
func forEachStore(t *testing.T, fn func(t *testing.T, s store.Store)) {
	forEachDB(t, func(t *testing.T, dsn string) {
		fn(t, open(t, dsn))
	})
}

func open(t *testing.T, dsn string) store.Store {
	t.Helper()
	s, err := store.Open(ctxT(t), dsn)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// rawDB opens the database under a store for checks the Store interface
// does not offer.
func rawDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		db, err = sql.Open("sqlite", path)
	} else {
		db, err = sql.Open("pgx", dsn)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var day0 = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

func at(day int, hour int) time.Time {
	return day0.AddDate(0, 0, day).Add(time.Duration(hour) * time.Hour)
}

func ev(name string, kv ...any) contract.Event {
	p := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		v := kv[i+1]
		if n, ok := v.(int); ok {
			v = int64(n)
		}
		p[kv[i].(string)] = v
	}
	return contract.Event{Name: name, Params: p}
}

func clusterEv(version string, nodes int) contract.Event {
	return ev("cluster", "uptime", "0001-02:03:04", "version", version, "component", 0, "node_number", nodes, "config_type", "toml")
}

func stanzaEv(typ string, inc int) contract.Event {
	return ev("xmpp_stanza_count", "stanza_type", typ, "total", 1000, "increment", inc)
}

func batch(received time.Time, property string, kind store.Kind, client string, events ...contract.Event) store.Batch {
	return store.Batch{Received: received, Property: property, Kind: kind, ClientID: client, Counted: true, Events: events}
}

func add(t *testing.T, s store.Store, b store.Batch) {
	t.Helper()
	stored, err := s.AddBatch(ctxT(t), b)
	if err != nil || !stored {
		t.Fatalf("AddBatch: stored %v, %v", stored, err)
	}
}

func export(t *testing.T, s store.Store, since, until time.Time) []store.StoredEvent {
	t.Helper()
	var out []store.StoredEvent
	if err := s.Export(ctxT(t), since, until, func(e store.StoredEvent) error {
		out = append(out, e)
		return nil
	}); err != nil {
		t.Fatalf("Export: %v", err)
	}
	return out
}

func rollups(t *testing.T, s store.Store, q store.RollupQuery) []store.RollupRow {
	t.Helper()
	rows, err := s.Rollups(ctxT(t), q)
	if err != nil {
		t.Fatalf("Rollups: %v", err)
	}
	return rows
}

// rowsText writes roll-up rows one a line: "day kind version dimension value clusters sum".
func rowsText(rows []store.RollupRow) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%s %s %s %s %s %d %d\n", r.Day.Format(time.DateOnly), r.Kind, r.Version, r.Dimension, r.Value, r.Clusters, r.Sum)
	}
	return b.String()
}
