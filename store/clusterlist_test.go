package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/store"
)

func TestClusterPage(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		ctx := ctxT(t)
		lister, ok := s.(store.ClusterLister)
		if !ok {
			t.Fatal("the store does not page the cluster list")
		}
		// aa1 seen days 0–2, aa2 day 1, bb1 day 2 (ci), 6.5.0 on 3 nodes.
		add(t, s, batch(at(0, 1), "G-PROD", store.Production, "aa1", clusterEv("6.4.0", 2)))
		add(t, s, batch(at(1, 1), "G-PROD", store.Production, "aa2", clusterEv("6.5.0", 1)))
		add(t, s, batch(at(2, 1), "G-CI", store.CI, "bb1", clusterEv("6.5.0", 3)))
		add(t, s, batch(at(2, 2), "G-PROD", store.Production, "aa1", clusterEv("6.5.0", 3)))
		for d := 0; d < 3; d++ {
			if err := s.RollUp(ctx, at(d, 0)); err != nil {
				t.Fatal(err)
			}
		}
		ids := func(cs []store.ListedCluster) string {
			var out []string
			for _, c := range cs {
				out = append(out, c.ClientID)
			}
			return strings.Join(out, ",")
		}
		page := func(q store.ClusterListQuery) ([]store.ListedCluster, bool) {
			t.Helper()
			cs, more, err := lister.ClusterPage(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			return cs, more
		}
		all, more := page(store.ClusterListQuery{Since: at(0, 0), Sort: store.SortLastSeen, Limit: 10})
		if got := ids(all); got != "aa1,bb1,aa2" || more {
			t.Errorf("by last seen: %s (more %v), want aa1,bb1,aa2", got, more)
		}
		if c := all[0]; !slices.Equal(c.Versions, []string{"6.5.0"}) || c.Nodes != "3" {
			t.Errorf("aa1 described as %+v, want its latest run: 6.5.0 on 3 nodes", c)
		}
		if cs, _ := page(store.ClusterListQuery{Since: at(0, 0), Sort: store.SortFirstSeen, Ascending: true, Limit: 10}); ids(cs) != "aa1,aa2,bb1" {
			t.Errorf("by first seen: %s", ids(cs))
		}
		if cs, _ := page(store.ClusterListQuery{Since: at(0, 0), Sort: store.SortKind, Ascending: true, Limit: 10}); ids(cs) != "bb1,aa1,aa2" {
			t.Errorf("by kind: %s", ids(cs))
		}
		if cs, _ := page(store.ClusterListQuery{Since: at(0, 0), Prefix: "aa", Sort: store.SortClientID, Ascending: true, Limit: 10}); ids(cs) != "aa1,aa2" {
			t.Errorf("prefix aa: %s", ids(cs))
		}
		if cs, _ := page(store.ClusterListQuery{Since: at(0, 0), Prefix: "a%", Sort: store.SortClientID, Limit: 10}); len(cs) != 0 {
			t.Errorf("prefix a%%: %s (a pattern character is a character)", ids(cs))
		}
		first, more := page(store.ClusterListQuery{Since: at(0, 0), Sort: store.SortLastSeen, Limit: 2})
		second, more2 := page(store.ClusterListQuery{Since: at(0, 0), Sort: store.SortLastSeen, Limit: 2, Offset: 2})
		if ids(first) != "aa1,bb1" || !more || ids(second) != "aa2" || more2 {
			t.Errorf("pages: %s (more %v), %s (more %v)", ids(first), more, ids(second), more2)
		}
		if cs, _ := page(store.ClusterListQuery{Since: at(2, 0), Sort: store.SortLastSeen, Limit: 10}); ids(cs) != "aa1,bb1" {
			t.Errorf("since day 2: %s", ids(cs))
		}
		if _, _, err := lister.ClusterPage(ctx, store.ClusterListQuery{Sort: "version; DROP TABLE clusters"}); err == nil {
			t.Errorf("an unknown sort is not an error")
		}
	})
}

// BenchmarkClusterPage pages the admin view's cluster list among 1,000,000
// clusters (SQLite): the first page by last seen, by first seen, by kind,
// and an id prefix. Reports the p95 of a page.
func BenchmarkClusterPage(b *testing.B) {
	const clusters = 1_000_000
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "clusters.db")
	s, err := store.OpenSQLite(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	const chunk = 200
	for start := 0; start < clusters; start += chunk {
		var q strings.Builder
		q.WriteString("INSERT INTO clusters (property, client_id, kind, first_seen, last_seen, counted) VALUES ")
		var args []any
		for i := start; i < start+chunk; i++ {
			if i > start {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, 1)")
			kind := "production"
			if i%5 == 0 {
				kind = "ci"
			}
			first := now.AddDate(0, 0, -(i % 700)).UnixMicro()
			last := now.Add(-time.Duration(i%(90*24)) * time.Hour).UnixMicro()
			args = append(args, "G-PROD", fmt.Sprintf("%08x-0000-4000-8000-%012d", i*2654435761%(1<<32), i), kind, first, last)
		}
		if _, err := tx.Exec(q.String(), args...); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	lister := s.(store.ClusterLister)
	since := now.AddDate(0, 0, -29)
	for _, q := range []store.ClusterListQuery{
		{Since: since, Sort: store.SortLastSeen, Limit: 50},
		{Since: since, Sort: store.SortFirstSeen, Limit: 50},
		{Since: since, Sort: store.SortKind, Ascending: true, Limit: 50},
		{Since: since, Sort: store.SortLastSeen, Limit: 50, Offset: 5000},
		{Since: since, Sort: store.SortLastSeen, Prefix: "1a2b", Limit: 50},
	} {
		name := fmt.Sprintf("%s-offset%d-prefix%q", q.Sort, q.Offset, q.Prefix)
		b.Run(name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				if _, _, err := lister.ClusterPage(ctx, q); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}

// The list sorts by each cluster's latest profile: its highest version
// (6.10.0 after 6.9.1), node count and host count; a day rolled up again
// does not bring back an older profile.
func TestClusterPageSortsByLatestProfile(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		ctx := ctxT(t)
		lister := s.(store.ClusterLister)
		hosts := func(n int) contract.Event { return ev("host_count", "value", n) }
		// x: 6.4.0 on 12 nodes, then 6.10.0 on 2 nodes with 50 hosts; y:
		// 6.9.1 on 11 nodes, 1 host; z: 6.5.0 on 5 nodes, 5 hosts.
		add(t, s, batch(at(0, 1), "G-PROD", store.Production, "x", clusterEv("6.4.0", 12), hosts(1)))
		add(t, s, batch(at(2, 1), "G-PROD", store.Production, "x", clusterEv("6.10.0", 2), hosts(50)))
		for d := 0; d < 3; d++ {
			add(t, s, batch(at(d, 2), "G-PROD", store.Production, "y", clusterEv("6.9.1", 11), hosts(1)))
			add(t, s, batch(at(d, 3), "G-PROD", store.Production, "z", clusterEv("6.5.0", 5), hosts(5)))
		}
		for _, d := range []int{0, 1, 2, 0} { // day 0 twice: again after day 2
			if d == 0 {
				add(t, s, batch(at(0, 4), "G-PROD", store.Production, "x", clusterEv("6.4.0", 12), hosts(1)))
			}
			if err := s.RollUp(ctx, at(d, 0)); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct {
			sort store.ClusterSort
			want string
		}{{store.SortVersion, "x,y,z"}, {store.SortNodes, "y,z,x"}, {store.SortHosts, "x,z,y"}} {
			cs, _, err := lister.ClusterPage(ctx, store.ClusterListQuery{Since: at(0, 0), Sort: c.sort, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, cl := range cs {
				got = append(got, cl.ClientID)
			}
			if strings.Join(got, ",") != c.want {
				t.Errorf("by %s, highest first: %v, want %s", c.sort, got, c.want)
			}
			asc, _, err := lister.ClusterPage(ctx, store.ClusterListQuery{Since: at(0, 0), Sort: c.sort, Ascending: true, Limit: 1})
			if err != nil || len(asc) != 1 || asc[0].ClientID != c.want[len(c.want)-1:] {
				t.Errorf("by %s, lowest first: %+v %v, want %s", c.sort, asc, err, c.want[len(c.want)-1:])
			}
		}
	})
}
