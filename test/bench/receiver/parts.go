package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mim-metrics/mim-metrics/dashboard"
	"github.com/mim-metrics/mim-metrics/receiver"
	"github.com/mim-metrics/mim-metrics/store"
	"github.com/mim-metrics/mim-metrics/test/pgtest"
)

// The parts under test, wired as mim-metrics-receiver wires them.

// newReceiver is the receiver's ingest handler on st, configured with the
// benchmark's two properties, trusting 127.0.0.1 as a proxy (each
// simulated cluster has its own X-Forwarded-For address), with the
// default rate limits; served as mim-metrics-receiver serves it.
func newReceiver(st store.Store, addr string) (*http.Server, error) {
	rc, err := receiver.New(receiver.Config{
		Store: st,
		Properties: []receiver.Property{
			{ID: prodProperty, Secret: prodSecret, Kind: store.Production},
			{ID: ciProperty, Secret: ciSecret, Kind: store.CI},
		},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
	})
	if err != nil {
		return nil, err
	}
	return receiver.NewServer(addr, rc, receiver.DefaultTimeouts), nil
}

// dashboardCall is one page or API call of the dashboard.
type dashboardCall struct {
	path  string
	api   bool // an API call (JSON or CSV), else a page
	admin bool // with the admin token
	// target is the call's p95 target; zero: a page's or an API call's.
	target time.Duration
}

// newDashboard is the dashboard's handler on st and the calls to time:
// every page and every chart's API (the list GET /api/v1/ gives), over
// the default period (30 days) and a year; the admin pages, a cluster's
// history for one of w's clusters.
func newDashboard(st store.Store, w *world) (http.Handler, []dashboardCall, error) {
	h := dashboard.New(st, dashboard.Options{AdminToken: adminToken})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/", nil))
	var index struct {
		Charts []struct {
			JSON string `json:"json"`
			CSV  string `json:"csv"`
		} `json:"charts"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &index); err != nil || rec.Code != http.StatusOK {
		return nil, nil, fmt.Errorf("GET /api/v1/: status %d, %v", rec.Code, err)
	}
	if len(index.Charts) == 0 {
		return nil, nil, errors.New("GET /api/v1/ lists no chart")
	}
	const year = "?period=365"
	var calls []dashboardCall
	for _, p := range []string{"/", "/clusters", "/shape", "/features", "/traffic", "/geography"} {
		calls = append(calls, dashboardCall{path: p}, dashboardCall{path: p + year})
	}
	calls = append(calls,
		dashboardCall{path: "/admin", admin: true},
		dashboardCall{path: "/admin" + year, admin: true},
		dashboardCall{path: "/admin/cluster?id=" + url.QueryEscape(w.clusters[0].id), admin: true},
		dashboardCall{path: "/admin/cluster" + year + "&id=" + url.QueryEscape(w.clusters[0].id), admin: true})
	calls = append(calls, dashboardCall{path: "/api/v1/", api: true})
	for _, c := range index.Charts {
		calls = append(calls, dashboardCall{path: c.JSON, api: true}, dashboardCall{path: c.JSON + year, api: true},
			dashboardCall{path: c.CSV + year, api: true})
	}
	return h, calls, nil
}

// adminToken is the admin token of the dashboard under test.
const adminToken = "bench-admin-token"

// loadRollups inserts a day's roll-up rows directly (the year of history
// the scale phase needs: far too many raw events to compute it from).
func loadRollups(ctx context.Context, st store.Store, rows []store.RollupRow) error {
	return store.LoadRollups(ctx, st, rows)
}

// dbServer is where one kind of store keeps its databases: a directory of
// SQLite files, or a PostgreSQL server of test/pgtest.
type dbServer struct {
	kind string
	dir  string         // SQLite: the files' directory
	pg   *pgtest.Server // PostgreSQL
	urls map[string]string
}

func startServer(kind, work string) (*dbServer, error) {
	s := &dbServer{kind: kind, urls: map[string]string{}}
	switch kind {
	case "sqlite":
		s.dir = filepath.Join(work, "sqlite")
		return s, os.MkdirAll(s.dir, 0o755)
	case "postgres":
		logf("postgres: starting a server (test/pgtest)")
		pg, err := pgtest.Start()
		if err != nil {
			return nil, fmt.Errorf("start PostgreSQL: %w", err)
		}
		s.pg = pg
		return s, nil
	}
	return nil, fmt.Errorf("unknown store %q", kind)
}

// fresh opens a new, empty database called name.
func (s *dbServer) fresh(ctx context.Context, name string) (store.Store, error) {
	var dsn string
	if s.pg != nil {
		u, err := s.pg.CreateDatabase(name)
		if err != nil {
			return nil, err
		}
		dsn = u
	} else {
		dsn = "sqlite:" + filepath.Join(s.dir, name+".db")
	}
	s.urls[name] = dsn
	return store.Open(ctx, dsn)
}

// size is the bytes database name takes on disk: SQLite's files after a
// checkpoint, PostgreSQL's pg_database_size.
func (s *dbServer) size(ctx context.Context, name string) (int64, error) {
	dsn, ok := s.urls[name]
	if !ok {
		return 0, fmt.Errorf("no database %s", name)
	}
	if s.pg == nil {
		path := strings.TrimPrefix(dsn, "sqlite:")
		// Move the WAL into the database first: a WAL file keeps the size
		// it grew to, which is not the data's.
		db, err := sql.Open("sqlite", path)
		if err != nil {
			return 0, err
		}
		_, err = db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
		db.Close()
		if err != nil {
			return 0, fmt.Errorf("checkpoint %s: %w", path, err)
		}
		var total int64
		for _, f := range []string{path, path + "-wal", path + "-shm"} {
			if st, err := os.Stat(f); err == nil {
				total += st.Size()
			}
		}
		return total, nil
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, fmt.Errorf("size of %s: %w", name, err)
	}
	defer conn.Close(context.Background())
	var n int64
	if err := conn.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&n); err != nil {
		return 0, fmt.Errorf("size of %s: %w", name, err)
	}
	return n, nil
}

func (s *dbServer) stop() {
	if s.pg != nil {
		s.pg.Stop()
	}
}

// postgresVersion names the PostgreSQL the benchmark runs.
func postgresVersion() string {
	out, err := exec.Command("/usr/lib/postgresql/15/bin/postgres", "--version").Output()
	if err != nil {
		if out, err = exec.Command("postgres", "--version").Output(); err != nil {
			return "PostgreSQL: unknown version"
		}
	}
	return strings.TrimSpace(string(out)) + " (test/pgtest: its defaults, fsync and synchronous_commit on); SQLite: modernc.org/sqlite, WAL, synchronous FULL"
}
