package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/mim-metrics/mim-metrics/dashboard"
	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

// The admin phase: /admin's cluster list among -admin-clusters client ids
// (1,000,000 by default), rows of the clusters table loaded directly
// (store.LoadClusters: far too many clusters to send), each with its
// latest profile's version, nodes and hosts; then /admin timed with each
// sort, a later page, and a search by id prefix.

// maxAdminListP95 is the target of /admin at a million client ids;
// maxDeepPageP95 that of page 200 (offset 9,950: a page costs its offset,
// and the page links go one page at a time).
const (
	maxAdminListP95 = 100 * time.Millisecond
	maxDeepPageP95  = 250 * time.Millisecond
)

// adminVersions are the versions the loaded clusters run, the newest the
// most run.
var adminVersions = []string{"6.6.0", "6.5.0", "6.4.1", "6.4.0", "6.3.0", "6.2.1", "6.1.0", "5.1.0", "4.2.0", "3.7.1"}

var adminBuckets = map[string][]string{
	facts.NodeNumber: {"1", "2", "3", "4", "5", "11-20"},
	facts.Hosts:      {"1", "2-10", "11-100"},
}

// loadAdminClusters writes n cluster rows into st, 50,000 a transaction:
// first seen over the last two years, last seen over the last 90 days.
func loadAdminClusters(ctx context.Context, st store.Store, n int, seed uint64, now time.Time) error {
	rng := rand.New(rand.NewPCG(seed, 22))
	const chunk = 50_000
	batch := make([]store.LoadedCluster, 0, chunk)
	for i := 0; i < n; i++ {
		kind, property := store.Production, prodProperty
		if i%5 == 0 {
			kind, property = store.CI, ciProperty
		}
		last := now.Add(-time.Duration(rng.IntN(90*24*60)) * time.Minute)
		first := last.Add(-time.Duration(rng.IntN(2*365*24)) * time.Hour)
		v := adminVersions[min(rng.IntN(len(adminVersions)), rng.IntN(len(adminVersions)))]
		batch = append(batch, store.LoadedCluster{
			Property: property, Kind: kind, FirstSeen: first, LastSeen: last,
			ClientID: fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", rng.Uint32(), rng.IntN(1<<16), rng.IntN(1<<12), rng.IntN(1<<12), i),
			Latest: []facts.Fact{{Dimension: facts.Version, Value: v},
				{Dimension: facts.NodeNumber, Value: pick(rng, adminBuckets[facts.NodeNumber])},
				{Dimension: facts.Hosts, Value: pick(rng, adminBuckets[facts.Hosts])}},
		})
		if len(batch) == chunk || i == n-1 {
			if err := store.LoadClusters(ctx, st, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return nil
}

func pick(rng *rand.Rand, from []string) string { return from[rng.IntN(len(from))] }

// adminListCalls are the /admin calls timed at a million clusters.
func adminListCalls() []dashboardCall {
	var calls []dashboardCall
	for _, q := range []string{"", "?sort=first_seen", "?sort=version", "?sort=nodes", "?sort=hosts", "?sort=kind&order=asc",
		"?sort=client_id&order=asc", "?sort=version&order=asc&page=200", "?q=1a2b", "?q=ff&sort=version", "?period=365&sort=hosts"} {
		target := maxAdminListP95
		if strings.Contains(q, "page=") {
			target = maxDeepPageP95
		}
		calls = append(calls, dashboardCall{path: "/admin" + q, admin: true, target: target})
	}
	return calls
}

// measureAdminList loads the clusters into a fresh database of srv and
// times the admin list's calls.
func measureAdminList(ctx context.Context, srv *dbServer, o options) ([]dashboardRow, time.Duration, error) {
	st, err := srv.fresh(ctx, "admin_list")
	if err != nil {
		return nil, 0, err
	}
	defer st.Close()
	logf("%s: admin: loading %d clusters", srv.kind, o.adminClusters)
	began := time.Now()
	if err := loadAdminClusters(ctx, st, o.adminClusters, o.seed, time.Now().UTC()); err != nil {
		return nil, 0, fmt.Errorf("load %d clusters: %w", o.adminClusters, err)
	}
	loading := time.Since(began)
	h := dashboard.New(st, dashboard.Options{AdminToken: adminToken})
	rows, err := timeCalls(ctx, st, h, srv.kind, adminListCalls(), o)
	return rows, loading, err
}
