package store_test

import (
	"errors"
	"math"
	"testing"

	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

// Amounts at the int64 limit (numbers no node reports, which the receiver
// drops, but the store must not trust that) are held at the limit in the
// facts, a day's roll-up and the traffic bucket: no batch fails, no roll-up
// fails, no sum wraps negative.
func TestAmountsSaturate(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		huge := ev("xmpp_stanza_count", "stanza_type", "xmppMessageSent", "total", 1, "increment", int64(math.MaxInt64))
		for day := range 2 {
			for i, client := range []string{"a", "a", "b"} {
				b := batch(at(day, i+1), "G-1", store.Production, client, clusterEv("6.2.1", 1), huge)
				add(t, s, b)
			}
			if err := s.RollUp(ctxT(t), at(day, 0)); err != nil {
				t.Fatalf("roll up day %d: %v", day, err)
			}
		}
		q := store.RollupQuery{From: at(0, 0), To: at(1, 0), Dimensions: []string{facts.Stanza}}
		for _, r := range rollups(t, s, q) {
			if r.Version == facts.AllVersions && r.Sum != math.MaxInt64 {
				t.Errorf("roll-up %s %s=%s: sum %d, want the int64 limit", r.Day.Format("2006-01-02"), r.Dimension, r.Value, r.Sum)
			}
		}
		// The day's traffic bucket, from the same sums, is the largest.
		set, err := s.Runs(ctxT(t), at(0, 0), at(1, 0))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range set.Runs {
			for _, f := range set.Profiles[r.Profile] {
				if f.Dimension == facts.StanzaVolume && f.Value != "1M+" {
					t.Errorf("%s's traffic: %s, want 1M+", r.ClientID, f.Value)
				}
			}
		}
		if days, err := s.DaysToRollUp(ctxT(t)); err != nil || len(days) != 0 {
			t.Errorf("days left to roll up: %v, %v", days, err)
		}
	})
}

// A value the database refuses is a permanent error, not an outage: the
// receiver answers it with a 4xx.
func TestPermanentErrors(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		b := batch(at(0, 1), "G-1", store.Production, "c\x00nul", clusterEv("6.2.1", 1))
		_, err := s.AddBatch(ctxT(t), b)
		if err == nil {
			t.Skip("this database stores a NUL in a text column")
		}
		if !errors.Is(err, store.ErrPermanent) {
			t.Errorf("a client id with a NUL: %v, want ErrPermanent", err)
		}
	})
}

// A day poisoned before sums were held (an amount that overflowed into a
// float on SQLite) rolls up, its amount read as the limit.
func TestPoisonedDayRollsUp(t *testing.T) {
	dsn := "sqlite:" + t.TempDir() + "/p.db"
	s := open(t, dsn)
	add(t, s, batch(at(0, 1), "G-1", store.Production, "a", clusterEv("6.2.1", 1), stanzaEv("xmppMessageSent", 5)))
	if _, err := rawDB(t, dsn).ExecContext(ctxT(t), `UPDATE facts SET amount = 1.8446744073709552e+19 WHERE dimension = ?`, facts.Stanza); err != nil {
		t.Fatal(err)
	}
	if err := s.RollUp(ctxT(t), at(0, 0)); err != nil {
		t.Fatalf("the poisoned day's roll-up: %v", err)
	}
	for _, r := range rollups(t, s, store.RollupQuery{From: at(0, 0), To: at(0, 0), Version: facts.AllVersions, Dimensions: []string{facts.Stanza}}) {
		if r.Sum != math.MaxInt64 {
			t.Errorf("%s=%s: %d, want the int64 limit", r.Dimension, r.Value, r.Sum)
		}
	}
}

// A NUL in an event's param (the rows travel as JSON to the database) is
// stored as it was sent, or refused as permanent: never an outage; and it
// states no fact.
func TestNULInValues(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		b := batch(at(0, 1), "G-1", store.Production, "a", clusterEv("6.2.1", 1),
			ev("module_with_opt", "module", "mod_\x00nul", "backend", "rdbms"))
		stored, err := s.AddBatch(ctxT(t), b)
		if err != nil {
			if !errors.Is(err, store.ErrPermanent) {
				t.Errorf("a module name with a NUL: %v, want ErrPermanent", err)
			}
			return
		}
		if !stored {
			t.Fatal("a new batch was not stored")
		}
		var names []string
		if err := s.Export(ctxT(t), at(0, 0), at(1, 0), func(e store.StoredEvent) error {
			if m, ok := e.Params["module"].(string); ok {
				names = append(names, m)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(names) != 1 || names[0] != "mod_\x00nul" {
			t.Errorf("exported module names %q, want the NUL kept", names)
		}
		if err := s.RollUp(ctxT(t), at(0, 0)); err != nil {
			t.Fatal(err)
		}
		rows := rollups(t, s, store.RollupQuery{From: at(0, 0), To: at(0, 0), Version: facts.AllVersions, Dimensions: []string{facts.Module}})
		// No fact comes of it: a NUL is no module name, and facts state
		// only what the catalog's rules accept (contract.Summarize).
		if len(rows) != 0 {
			t.Errorf("module roll-ups %+v, want none of a name the catalog refuses", rows)
		}
	})
}
