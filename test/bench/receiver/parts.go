package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/mim-metrics/mim-metrics/store"
)

// The parts under test, wired as mim-metrics-receiver wires them. A part
// that is not built yet says so, and the phases that need it fail with
// that message.

var errMissing = errors.New("not on main yet")

// newReceiver is the receiver's ingest handler on st, configured with the
// benchmark's two properties, trusting 127.0.0.1 as a proxy (each
// simulated cluster has its own X-Forwarded-For address).
func newReceiver(st store.Store) (http.Handler, error) {
	return nil, errors.New("the receiver package: " + errMissing.Error())
}

// dashboardCall is one page or API call of the dashboard.
type dashboardCall struct {
	name  string
	path  string
	api   bool
	admin bool
}

// newDashboard is the dashboard's handler on st and the calls to time
// (a cluster's history: one of w's clusters).
func newDashboard(st store.Store, w *world) (http.Handler, []dashboardCall, error) {
	return nil, nil, errors.New("the dashboard package: " + errMissing.Error())
}

// adminToken is the admin token of the dashboard under test.
const adminToken = "bench-admin-token"

// loadRollups inserts a day's roll-up rows directly (the year of history
// the scale phase needs, far too many raw events to compute it from).
func loadRollups(ctx context.Context, st store.Store, rows []store.RollupRow) error {
	return errors.New("a bulk load of roll-ups in the store: " + errMissing.Error())
}

// dbServer is where one kind of store keeps its databases: a directory of
// SQLite files, or a PostgreSQL server of test/pgtest.
type dbServer struct {
	kind string
	dir  string
}

func startServer(kind, work string) (*dbServer, error) {
	return nil, errors.New("the " + kind + " store: " + errMissing.Error())
}

// fresh opens a new, empty database called name.
func (s *dbServer) fresh(ctx context.Context, name string) (store.Store, error) {
	return nil, errMissing
}

// size is the bytes database name takes on disk.
func (s *dbServer) size(ctx context.Context, name string) (int64, error) {
	return 0, errMissing
}

func (s *dbServer) stop() {}

// postgresVersion names the PostgreSQL the benchmark runs.
func postgresVersion() string {
	return "PostgreSQL: " + errMissing.Error()
}
