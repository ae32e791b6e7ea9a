package store_test

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

func TestOpenRejectsUnknownURL(t *testing.T) {
	for _, dsn := range []string{"mysql://u:secret7f3a@db/metrics", "./file.db", "sqlite:", ""} {
		_, err := store.Open(ctxT(t), dsn)
		if err == nil {
			t.Fatalf("Open(%q) succeeded", dsn)
		}
		msg := err.Error()
		if strings.Contains(msg, "secret7f3a") || strings.Contains(msg, "\n") || !strings.Contains(msg, "sqlite:") {
			t.Errorf("Open(%q): %q; want one line naming sqlite:PATH, no password", dsn, msg)
		}
	}
}

func TestAddBatchDedup(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		b := batch(at(0, 1), "G-PROD", store.Production, "c1", clusterEv("6.6.0", 1), ev("host_count", "value", 2))
		b.DedupKey = "c1/1700000000000000/0"
		add(t, s, b)
		b.Received = at(0, 2)
		stored, err := s.AddBatch(ctxT(t), b)
		if err != nil || stored {
			t.Fatalf("the same DedupKey again: stored %v, %v; want false, nil", stored, err)
		}
		b.DedupKey = "c1/1700000000000000/1"
		add(t, s, b)
		b.DedupKey = ""
		add(t, s, b)
		add(t, s, b)
		if got := len(export(t, s, at(-1, 0), at(1, 0))); got != 8 {
			t.Errorf("%d events stored, want 8 (4 batches of 2)", got)
		}
		// The retry changed nothing: the day's facts are those of one
		// batch per stored batch, the cluster's last seen that of a stored one.
		clusters, err := s.Clusters(ctxT(t), at(-1, 0))
		if err != nil || len(clusters) != 1 || !clusters[0].LastSeen.Equal(at(0, 2)) {
			t.Fatalf("Clusters: %+v, %v", clusters, err)
		}
	})
}

// Two receivers storing the same retried request at once store it once.
func TestAddBatchDedupRace(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		stores := []store.Store{open(t, dsn), open(t, dsn)}
		const tries = 8
		var wg sync.WaitGroup
		var mu sync.Mutex
		stored, errs := 0, []error{}
		for i := range tries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b := batch(at(0, 1), "G-PROD", store.Production, "c1", clusterEv("6.6.0", 1))
				b.DedupKey = "c1/race"
				ok, err := stores[i%2].AddBatch(ctxT(t), b)
				mu.Lock()
				defer mu.Unlock()
				if ok {
					stored++
				}
				if err != nil {
					errs = append(errs, err)
				}
			}()
		}
		wg.Wait()
		if stored != 1 || len(errs) > 0 {
			t.Fatalf("stored %d times, errors %v; want once, none", stored, errs)
		}
		if got := len(export(t, stores[0], at(-1, 0), at(1, 0))); got != 1 {
			t.Errorf("%d events stored, want 1", got)
		}
	})
}

func TestExportOrderAndRange(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		b := batch(at(0, 3), "G-PROD", store.Production, "c1", ev("host_count", "value", 3), ev("outgoing_pool", "value", "rdbms"))
		b.Country, b.ReportKey = "PL", "report-1"
		add(t, s, b)
		add(t, s, batch(at(0, 1), "UA-1-1", store.CI, "c2", ev("host_count", "value", 1)))
		add(t, s, batch(at(0, 5), "G-PROD", store.Production, "c1", ev("host_count", "value", 5)))
		add(t, s, batch(at(0, 2), "G-PROD", store.Production, "c3", ev("host_count", "value", 2)))

		got := export(t, s, at(0, 1), at(0, 5)) // [01:00, 05:00)
		var order []string
		for _, e := range got {
			order = append(order, fmt.Sprintf("%s %s %v", e.Received.Format("15"), e.ClientID, e.Params["value"]))
		}
		want := []string{"01 c2 1", "02 c3 2", "03 c1 3", "03 c1 rdbms"}
		if !reflect.DeepEqual(order, want) {
			t.Fatalf("export order %q, want %q", order, want)
		}
		first := got[2]
		wantEvent := store.StoredEvent{Received: at(0, 3), Property: "G-PROD", Kind: store.Production, ClientID: "c1",
			ReportKey: "report-1", Country: "PL", Name: contract.HostCount, Params: map[string]any{"value": int64(3)}}
		if !reflect.DeepEqual(first, wantEvent) {
			t.Errorf("exported %+v, want %+v", first, wantEvent)
		}
		if got[0].ReportKey == "" || got[0].ReportKey == got[1].ReportKey {
			t.Errorf("batches without a report key got %q and %q, want one each", got[0].ReportKey, got[1].ReportKey)
		}
		stop := errors.New("stop")
		n := 0
		err := s.Export(ctxT(t), at(0, 0), at(1, 0), func(store.StoredEvent) error { n++; return stop })
		if !errors.Is(err, stop) || n != 1 {
			t.Errorf("Export with a failing fn: %v after %d events", err, n)
		}
	})
}

// rollupData stores the roll-up tests' data set: two kinds, two versions,
// a cluster mid-upgrade (A) seen the day before, new clusters, stanza
// counts, and an uncounted batch.
func rollupData(t *testing.T, s store.Store) {
	a1 := batch(at(0, 1), "G-PROD", store.Production, "A", clusterEv("6.6.0", 2),
		ev("module_with_opt", "module", "mod_muc", "backend", "mnesia"), stanzaEv("xmppMessageSent", 60), ev("host_count", "value", 1))
	a1.Country = "PL"
	a2 := batch(at(0, 2), "G-PROD", store.Production, "A", clusterEv("6.5.0", 2),
		ev("module_with_opt", "module", "mod_muc", "backend", "rdbms"), stanzaEv("xmppMessageSent", 50))
	a2.Country = "PL"
	uncounted := batch(at(0, 4), "G-PROD", store.Production, "U", clusterEv("9.9.9", 1), ev("host_count", "value", 7))
	uncounted.Counted = false
	for _, b := range []store.Batch{
		batch(at(-1, 20), "G-PROD", store.Production, "A", clusterEv("6.5.0", 2), ev("host_count", "value", 1)),
		a1, a2,
		batch(at(0, 3), "G-PROD", store.Production, "B", clusterEv("6.6.0", 1), ev("module_with_opt", "module", "mod_vcard")),
		batch(at(0, 3), "G-CI", store.CI, "C", clusterEv("6.6.0", 1), stanzaEv("xmppIqSent", -5), stanzaEv("xmppIqReceived", 0)),
		uncounted,
	} {
		add(t, s, b)
	}
}

// The expected roll-ups of rollupData, counted by hand.
var (
	productionDay0 = `
clusters new 1 0
clusters returning 1 0
components 0 2 0
config_type toml 2 0
country PL 1 0
hosts 1 1 0
module mod_muc 1 0
module mod_vcard 1 0
module_backend mod_muc/mnesia 1 0
module_backend mod_muc/rdbms 1 0
module_backend mod_vcard/none 1 0
node_number 1 1 0
node_number 2 1 0
stanza xmppMessageSent 1 110
stanza_volume 101-10k 1 110
version 6.5.0 1 0
version 6.6.0 2 0`
	production650Day0 = `
clusters returning 1 0
components 0 1 0
config_type toml 1 0
country PL 1 0
hosts 1 1 0
module mod_muc 1 0
module_backend mod_muc/mnesia 1 0
module_backend mod_muc/rdbms 1 0
node_number 2 1 0
stanza xmppMessageSent 1 110
stanza_volume 101-10k 1 110
version 6.5.0 1 0
version 6.6.0 1 0`
	ciDay0 = `
clusters new 1 0
components 0 1 0
config_type toml 1 0
node_number 1 1 0
stanza xmppIqReceived 1 0
stanza xmppIqSent 1 0
stanza_volume 0 1 0
version 6.6.0 1 0`
	productionDayBefore = `
clusters new 1 0
components 0 1 0
config_type toml 1 0
hosts 1 1 0
node_number 2 1 0
version 6.5.0 1 0`
)

// expect prefixes each line of a hand-written table with day, kind and version.
func expect(day time.Time, kind store.Kind, version, table string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(table), "\n") {
		fmt.Fprintf(&b, "%s %s %s %s\n", day.Format(time.DateOnly), kind, version, line)
	}
	return b.String()
}

func checkRollups(t *testing.T, s store.Store) {
	t.Helper()
	d0, d1 := at(0, 0), at(-1, 0)
	for _, c := range []struct {
		q    store.RollupQuery
		want string
	}{
		{store.RollupQuery{From: d0, To: d0, Kind: store.Production}, expect(d0, store.Production, "*", productionDay0)},
		{store.RollupQuery{From: d0, To: d0, Kind: store.Production, Version: "6.6.0"}, expect(d0, store.Production, "6.6.0", productionDay0)},
		{store.RollupQuery{From: d0, To: d0, Kind: store.Production, Version: "6.5.0"}, expect(d0, store.Production, "6.5.0", production650Day0)},
		{store.RollupQuery{From: d0, To: d0, Kind: store.CI, Version: facts.AllVersions}, expect(d0, store.CI, "*", ciDay0)},
		{store.RollupQuery{From: d0, To: d0, Kind: store.CI, Version: "6.6.0"}, expect(d0, store.CI, "6.6.0", ciDay0)},
		{store.RollupQuery{From: d1, To: d1, Kind: store.Production}, expect(d1, store.Production, "*", productionDayBefore)},
		{store.RollupQuery{From: d0, To: d0, Version: "9.9.9"}, ""}, // only uncounted
		{store.RollupQuery{From: d1, To: d0, Dimensions: []string{facts.Version, facts.Clusters}}, `2026-03-09 production * clusters new 1 0
2026-03-09 production * version 6.5.0 1 0
2026-03-10 ci * clusters new 1 0
2026-03-10 production * clusters new 1 0
2026-03-10 production * clusters returning 1 0
2026-03-10 production * version 6.5.0 1 0
2026-03-10 ci * version 6.6.0 1 0
2026-03-10 production * version 6.6.0 2 0
`},
	} {
		if got := rowsText(rollups(t, s, c.q)); got != c.want {
			t.Errorf("Rollups(%+v):\n%s\nwant:\n%s", c.q, got, c.want)
		}
	}
}

func TestRollUp(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		rollupData(t, s)
		days, err := s.DaysToRollUp(ctxT(t))
		if err != nil || !reflect.DeepEqual(days, []time.Time{at(-1, 0), at(0, 0)}) {
			t.Fatalf("DaysToRollUp: %v, %v; want the two days", days, err)
		}
		for _, d := range days {
			if err := s.RollUp(ctxT(t), d.Add(7*time.Hour)); err != nil { // any time of the day
				t.Fatal(err)
			}
		}
		checkRollups(t, s)
		if days, err := s.DaysToRollUp(ctxT(t)); err != nil || len(days) != 0 {
			t.Fatalf("DaysToRollUp after the roll-ups: %v, %v", days, err)
		}

		// Twice gives the same rows; a new batch marks its day again.
		before := rollups(t, s, store.RollupQuery{From: at(-1, 0), To: at(0, 0)})
		if err := s.RollUp(ctxT(t), at(0, 0)); err != nil {
			t.Fatal(err)
		}
		if after := rollups(t, s, store.RollupQuery{From: at(-1, 0), To: at(0, 0)}); !reflect.DeepEqual(before, after) {
			t.Fatalf("a second roll-up changed the rows:\n%s\nto\n%s", rowsText(before), rowsText(after))
		}
		uncounted := batch(at(0, 9), "G-PROD", store.Production, "V", clusterEv("6.6.0", 1))
		uncounted.Counted = false
		add(t, s, uncounted)
		if days, err := s.DaysToRollUp(ctxT(t)); err != nil || len(days) != 0 {
			t.Fatalf("an uncounted batch marked %v (%v) to roll up", days, err)
		}
		add(t, s, batch(at(0, 9), "G-PROD", store.Production, "B", clusterEv("6.6.0", 1)))
		if days, err := s.DaysToRollUp(ctxT(t)); err != nil || !reflect.DeepEqual(days, []time.Time{at(0, 0)}) {
			t.Fatalf("DaysToRollUp after a new batch: %v, %v", days, err)
		}
	})
}

// Receivers computing one day at once on one database get the same rows
// and no error.
func TestRollUpConcurrent(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		stores := []store.Store{open(t, dsn), open(t, dsn)}
		rollupData(t, stores[0])
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, d := range []time.Time{at(-1, 0), at(0, 0)} {
					if err := stores[i%2].RollUp(ctxT(t), d); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		checkRollups(t, stores[1])
	})
}

func TestDeleteBefore(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		old := func(i int) store.Batch {
			b := batch(at(-5, i), "G-PROD", store.Production, "A", clusterEv("6.6.0", 1),
				ev("host_count", "value", 1), ev("outgoing_pool", "value", "rdbms"), ev("module_with_opt", "module", "mod_ping"))
			b.DedupKey = fmt.Sprintf("old/%d", i)
			return b
		}
		for i := range 3 {
			add(t, s, old(i)) // 12 old events
		}
		add(t, s, batch(at(0, 1), "G-PROD", store.Production, "A", clusterEv("6.6.0", 1), ev("host_count", "value", 1)))
		for _, d := range []time.Time{at(-5, 0), at(0, 0)} {
			if err := s.RollUp(ctxT(t), d); err != nil {
				t.Fatal(err)
			}
		}
		rollupsBefore := rollups(t, s, store.RollupQuery{From: at(-5, 0), To: at(0, 0)})

		const limit = 5
		cutoff := at(-1, 0)
		left := 12
		for calls := 0; ; calls++ {
			if calls > 20 {
				t.Fatal("DeleteBefore never returned 0")
			}
			n, err := s.DeleteBefore(ctxT(t), cutoff, limit)
			if err != nil {
				t.Fatal(err)
			}
			now := len(export(t, s, at(-10, 0), cutoff))
			if left-now > limit || n < int64(left-now) {
				t.Fatalf("one call deleted %d old events (returned %d), limit %d", left-now, n, limit)
			}
			left = now
			if n == 0 {
				break
			}
		}
		if left != 0 {
			t.Fatalf("%d old events left", left)
		}
		if got := len(export(t, s, cutoff, at(1, 0))); got != 2 {
			t.Errorf("%d newer events left, want 2", got)
		}
		history, err := s.ClusterHistory(ctxT(t), "A", at(-10, 0), at(1, 0))
		if err != nil || len(history) != 1 || !history[0].Day.Equal(at(0, 0)) {
			t.Errorf("facts after the deletion: %+v, %v; want day 0's only", history, err)
		}
		// Roll-ups stay, also when the emptied day is rolled up again.
		if err := s.RollUp(ctxT(t), at(-5, 0)); err != nil {
			t.Fatal(err)
		}
		if after := rollups(t, s, store.RollupQuery{From: at(-5, 0), To: at(0, 0)}); !reflect.DeepEqual(after, rollupsBefore) {
			t.Errorf("roll-ups changed by the retention:\n%s\nwant\n%s", rowsText(after), rowsText(rollupsBefore))
		}
		// The dedup keys went with their events.
		if stored, err := s.AddBatch(ctxT(t), old(0)); err != nil || !stored {
			t.Errorf("a deleted batch's DedupKey again: stored %v, %v", stored, err)
		}
	})
}

func TestAdminViews(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		rollupData(t, s)
		clusters, err := s.Clusters(ctxT(t), at(0, 3))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range clusters {
			got = append(got, fmt.Sprintf("%s %s %s %s %s %v", c.ClientID, c.Property, c.Kind,
				c.FirstSeen.Format("02T15"), c.LastSeen.Format("02T15"), c.Counted))
		}
		want := []string{"U G-PROD production 10T04 10T04 false", "C G-CI ci 10T03 10T03 true", "B G-PROD production 10T03 10T03 true"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Clusters:\n%q\nwant\n%q", got, want)
		}

		history, err := s.ClusterHistory(ctxT(t), "A", at(-1, 0), at(0, 0))
		if err != nil || len(history) != 2 {
			t.Fatalf("ClusterHistory: %+v, %v", history, err)
		}
		wantDay0 := facts.FromEvents([]contract.Event{clusterEv("6.6.0", 2), clusterEv("6.5.0", 2),
			ev("module_with_opt", "module", "mod_muc", "backend", "mnesia"), ev("module_with_opt", "module", "mod_muc", "backend", "rdbms"),
			stanzaEv("xmppMessageSent", 110), ev("host_count", "value", 1)}, "PL")
		if h := history[1]; !h.Day.Equal(at(0, 0)) || h.Property != "G-PROD" || !reflect.DeepEqual(h.Facts, wantDay0) {
			t.Errorf("ClusterHistory day 0: %+v\nwant %v", h, wantDay0)
		}
		if h, err := s.ClusterHistory(ctxT(t), "U", at(-1, 0), at(0, 0)); err != nil || len(h) != 0 {
			t.Errorf("an uncounted cluster's history: %+v, %v; want none", h, err)
		}

		last, err := s.LastReports(ctxT(t))
		if err != nil || !reflect.DeepEqual(last, map[string]time.Time{"G-PROD": at(0, 4), "G-CI": at(0, 3)}) {
			t.Errorf("LastReports: %v, %v", last, err)
		}

		counts := []store.IngestCount{
			{Day: at(0, 5), Property: "G-PROD", Name: "events", N: 40},
			{Day: at(0, 0), Property: "", Name: "rejected", Reason: "unknown property", N: 1},
			{Day: at(-1, 0), Property: "G-PROD", Name: "events", N: 2},
		}
		for range 2 {
			if err := s.AddIngestCounts(ctxT(t), counts); err != nil {
				t.Fatal(err)
			}
		}
		ic, err := s.IngestCounts(ctxT(t), at(0, 0), at(0, 0))
		wantIC := []store.IngestCount{
			{Day: at(0, 0), Property: "", Name: "rejected", Reason: "unknown property", N: 2},
			{Day: at(0, 0), Property: "G-PROD", Name: "events", N: 80},
		}
		if err != nil || !reflect.DeepEqual(ic, wantIC) {
			t.Errorf("IngestCounts: %+v, %v\nwant %+v", ic, err, wantIC)
		}
	})
}

func TestSchemaTooNew(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		s, err := store.Open(ctxT(t), dsn)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		// Opening again migrates nothing and works.
		s, err = store.Open(ctxT(t), dsn)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		s.Close()
		db := rawDB(t, dsn)
		if _, err := db.ExecContext(ctxT(t), fmt.Sprintf("INSERT INTO schema_version (version) VALUES (%d)", store.SchemaVersion()+1)); err != nil {
			t.Fatal(err)
		}
		_, err = store.Open(ctxT(t), dsn)
		if !errors.Is(err, store.ErrSchemaTooNew) {
			t.Fatalf("Open of a newer schema: %v; want ErrSchemaTooNew", err)
		}
		if !strings.Contains(err.Error(), fmt.Sprint(store.SchemaVersion()+1)) {
			t.Errorf("the error does not name the version: %v", err)
		}
	})
}

// A stopped PostgreSQL gives errors, not panics or hangs, and the store
// works again once the server is back.
func TestStoreDown(t *testing.T) {
	s := open(t, pg.NewDatabase(t))
	add(t, s, batch(at(0, 1), "G-PROD", store.Production, "A", clusterEv("6.6.0", 1)))
	if err := pg.Pause(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := pg.Resume(); err != nil {
			t.Error(err)
		}
	})
	if err := s.Ping(ctxT(t)); err == nil {
		t.Fatal("Ping succeeded with the server stopped")
	}
	if stored, err := s.AddBatch(ctxT(t), batch(at(0, 2), "G-PROD", store.Production, "A", clusterEv("6.6.0", 1))); err == nil || stored {
		t.Fatalf("AddBatch with the server stopped: stored %v, %v", stored, err)
	}
	if err := s.RollUp(ctxT(t), at(0, 0)); err == nil {
		t.Fatal("RollUp succeeded with the server stopped")
	}
	if err := pg.Resume(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(stepTimeout)
	for s.Ping(ctxT(t)) != nil {
		if time.Now().After(deadline) {
			t.Fatal("Ping still fails after Resume")
		}
		time.Sleep(100 * time.Millisecond)
	}
	add(t, s, batch(at(0, 3), "G-PROD", store.Production, "A", clusterEv("6.6.0", 1)))
	if got := len(export(t, s, at(0, 0), at(1, 0))); got != 2 {
		t.Errorf("%d events after the outage, want 2", got)
	}
}

var ipv4 = regexp.MustCompile(`\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b`)

// No column is meant for an address, and no stored value looks like one:
// the store keeps only what a Batch carries, and a Batch has no address.
func TestPrivacyNoAddressStored(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		s := open(t, dsn)
		rollupData(t, s)
		if err := s.RollUp(ctxT(t), at(0, 0)); err != nil {
			t.Fatal(err)
		}
		if err := s.AddIngestCounts(ctxT(t), []store.IngestCount{{Day: at(0, 0), Name: "rejected", Reason: "rate limited", N: 1}}); err != nil {
			t.Fatal(err)
		}
		db := rawDB(t, dsn)
		tables := column(t, db, "SELECT name FROM sqlite_master WHERE type = 'table'", dsn,
			"SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
		if len(tables) < 7 {
			t.Fatalf("tables: %v", tables)
		}
		values := 0
		for _, table := range tables {
			cols := column(t, db, "SELECT name FROM pragma_table_info('"+table+"')", dsn,
				"SELECT column_name FROM information_schema.columns WHERE table_name = '"+table+"'")
			for _, c := range cols {
				if regexp.MustCompile(`(?i)(^|_)(ip|addr|address|remote|source|host|hostname|forwarded)($|_)`).MatchString(c) {
					t.Errorf("%s.%s looks meant for an address", table, c)
				}
			}
			rows, err := db.QueryContext(ctxT(t), "SELECT * FROM "+table)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				for _, v := range vals {
					values++
					if s := fmt.Sprintf("%s", v); ipv4.MatchString(s) {
						t.Errorf("%s holds %q", table, s)
					}
				}
			}
			rows.Close()
		}
		if values < 100 {
			t.Fatalf("only %d values read: the check reads nothing", values)
		}
	})
}

// column reads one column of strings, with the query of the DSN's dialect.
func column(t *testing.T, db *sql.DB, sqliteQuery, dsn, pgQuery string) []string {
	t.Helper()
	q := pgQuery
	if strings.HasPrefix(dsn, "sqlite:") {
		q = sqliteQuery
	}
	rows, err := db.QueryContext(ctxT(t), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Batches stored at once from many goroutines are all stored once, each
// with its own answer (on SQLite they share commits).
func TestAddBatchConcurrent(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		const workers, each = 8, 15
		var wg sync.WaitGroup
		var mu sync.Mutex
		stored, dups := 0, 0
		var errs []error
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					b := batch(at(0, 1).Add(time.Duration(w*each+i)*time.Second), "G-PROD", store.Production,
						fmt.Sprintf("c%d", w), clusterEv("6.6.0", 1), ev("host_count", "value", i+1))
					// Workers 0 and 1 send the same requests: one of each pair is a retry.
					b.DedupKey = fmt.Sprintf("%d/%d", max(w, 1), i)
					ok, err := s.AddBatch(ctxT(t), b)
					mu.Lock()
					switch {
					case err != nil:
						errs = append(errs, err)
					case ok:
						stored++
					default:
						dups++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(errs) > 0 || stored != (workers-1)*each || dups != each {
			t.Fatalf("stored %d, duplicates %d, errors %v; want %d, %d, none", stored, dups, errs, (workers-1)*each, each)
		}
		if got := len(export(t, s, at(0, 0), at(1, 0))); got != 2*stored {
			t.Errorf("%d events, want %d", got, 2*stored)
		}
	})
}

// Close answers the batches in flight and refuses later ones.
func TestAddBatchAfterClose(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		s, err := store.Open(ctxT(t), dsn)
		if err != nil {
			t.Fatal(err)
		}
		add(t, s, batch(at(0, 1), "G-PROD", store.Production, "A", clusterEv("6.6.0", 1)))
		s.Close()
		if stored, err := s.AddBatch(ctxT(t), batch(at(0, 2), "G-PROD", store.Production, "A", clusterEv("6.6.0", 1))); err == nil || stored {
			t.Fatalf("AddBatch after Close: %v, %v", stored, err)
		}
	})
}

// Batches stored while the day is being rolled up are never lost: once
// DaysToRollUp is empty, the roll-ups count every cluster.
func TestRollUpWhileAdding(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		const workers, each = 4, 15
		var adders sync.WaitGroup
		done := make(chan struct{})
		for w := range workers {
			adders.Add(1)
			go func() {
				defer adders.Done()
				for i := range each {
					b := batch(at(0, 1), "G-PROD", store.Production, fmt.Sprintf("c%d-%d", w, i), clusterEv("6.6.0", 1))
					if _, err := s.AddBatch(ctxT(t), b); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		rollUps := make(chan error, 1)
		go func() {
			defer close(rollUps)
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := s.RollUp(ctxT(t), at(0, 0)); err != nil {
					rollUps <- err
					return
				}
			}
		}()
		adders.Wait()
		close(done)
		if err := <-rollUps; err != nil {
			t.Fatal(err)
		}
		for round := 0; ; round++ {
			days, err := s.DaysToRollUp(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			if len(days) == 0 {
				break
			}
			if round == 3 {
				t.Fatalf("still to roll up after %d rounds: %v", round, days)
			}
			for _, d := range days {
				if err := s.RollUp(ctxT(t), d); err != nil {
					t.Fatal(err)
				}
			}
		}
		rows := rollups(t, s, store.RollupQuery{From: at(0, 0), To: at(0, 0), Dimensions: []string{facts.Clusters}})
		if len(rows) != 1 || rows[0].Clusters != workers*each {
			t.Fatalf("roll-ups count %s; want %d new clusters", rowsText(rows), workers*each)
		}
	})
}

func TestOpenBadFiles(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("not a database\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dsn := range []string{"sqlite:" + notDB, "sqlite:" + dir, "sqlite:" + filepath.Join(dir, "missing", "x.db"), "sqlite:a?b.db",
		"postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=5"} {
		s, err := store.Open(ctxT(t), dsn)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", dsn)
			continue
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("Open(%q): %q is not one line", dsn, err)
		}
	}
}

// An imported report older than a cluster's first batch makes the day it
// was new a day it returned, and both days are rolled up again.
func TestOlderBatchMovesFirstSeen(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		add(t, s, batch(at(0, 5), "G-PROD", store.Production, "A", clusterEv("6.6.0", 1)))
		if err := s.RollUp(ctxT(t), at(0, 0)); err != nil {
			t.Fatal(err)
		}
		add(t, s, batch(at(-3, 5), "G-PROD", store.Production, "A", clusterEv("6.5.0", 1)))
		days, err := s.DaysToRollUp(ctxT(t))
		if err != nil || !reflect.DeepEqual(days, []time.Time{at(-3, 0), at(0, 0)}) {
			t.Fatalf("DaysToRollUp: %v, %v; want days -3 and 0", days, err)
		}
		for _, d := range days {
			if err := s.RollUp(ctxT(t), d); err != nil {
				t.Fatal(err)
			}
		}
		got := rowsText(rollups(t, s, store.RollupQuery{From: at(-3, 0), To: at(0, 0), Dimensions: []string{facts.Clusters}}))
		want := "2026-03-07 production * clusters new 1 0\n2026-03-10 production * clusters returning 1 0\n"
		if got != want {
			t.Errorf("clusters:\n%s\nwant\n%s", got, want)
		}
		// A batch of the same first day or later marks nothing more.
		add(t, s, batch(at(-3, 1), "G-PROD", store.Production, "A"))
		if days, err := s.DaysToRollUp(ctxT(t)); err != nil || len(days) != 0 {
			t.Errorf("DaysToRollUp after a batch of the first day: %v, %v", days, err)
		}
	})
}
