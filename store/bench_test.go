package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/store"
)

// reportEvents is one node's report as a 6.x cluster sends it: ~40 events,
// ~50 facts.
func reportEvents(version string) []contract.Event {
	events := []contract.Event{
		ev("host_count", "value", 3), ev("domain_count", "value", 3), ev("custom_module_count", "value", 0),
		clusterEv(version, 3),
		ev("http_api", "mongoose_bosh_handler", "enabled", "mongoose_graphql_handler", "enabled"),
		ev("transport_mechanism", "tcp", "enabled", "mongoose_websocket_handler", "enabled"),
		ev("outgoing_pool", "value", "rdbms"),
	}
	for i := range 27 {
		events = append(events, ev("module_with_opt", "module", fmt.Sprintf("mod_m%02d", i), "backend", "rdbms"))
	}
	for _, t := range []string{"xmppMessageSent", "xmppMessageReceived", "xmppIqSent", "xmppIqReceived", "xmppPresenceSent", "xmppPresenceReceived"} {
		events = append(events, stanzaEv(t, 120))
	}
	return events
}

func benchStores(b *testing.B, fn func(b *testing.B, s store.Store)) {
	b.Run("sqlite", func(b *testing.B) {
		s, err := store.OpenSQLite(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		fn(b, s)
	})
	b.Run("postgres", func(b *testing.B) {
		s, err := store.OpenPostgres(context.Background(), pg.NewDatabase(b))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		fn(b, s)
	})
}

// BenchmarkAddBatch stores 25-event batches (a GA4 request's maximum) one
// after the other; events/s is the store's sequential ingest rate.
func BenchmarkAddBatch(b *testing.B) {
	events := reportEvents("6.6.0")[:25]
	benchStores(b, func(b *testing.B, s store.Store) {
		ctx := context.Background()
		start := time.Now()
		for i := 0; b.Loop(); i++ {
			batch := store.Batch{Received: day0.Add(time.Duration(i) * time.Millisecond), Property: "G-PROD", Kind: store.Production,
				ClientID: fmt.Sprintf("c%05d", i%10000), DedupKey: fmt.Sprint(i), Counted: true, Events: events}
			if _, err := s.AddBatch(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*len(events))/time.Since(start).Seconds(), "events/s")
	})
}

// BenchmarkRollUpDay rolls up a day of 10,000 clusters' facts (one report
// each: the facts of a day's further reports add amounts, not rows). cpu-s/op
// is the process's CPU time per roll-up, steadier than the wall clock on a
// shared machine.
func BenchmarkRollUpDay(b *testing.B) {
	const clusters, adders = 10000, 8
	benchStores(b, func(b *testing.B, s store.Store) {
		ctx := context.Background()
		var wg sync.WaitGroup
		for w := range adders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < clusters; i += adders {
					version := []string{"6.6.0", "6.5.0", "6.4.0"}[i%3]
					batch := store.Batch{Received: day0.Add(time.Duration(i) * time.Second), Property: "G-PROD", Kind: store.Production,
						ClientID: fmt.Sprintf("c%05d", i), Counted: true, Events: reportEvents(version)}
					if _, err := s.AddBatch(ctx, batch); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		cpu := cpuTime()
		b.ResetTimer()
		for b.Loop() {
			if err := s.RollUp(ctx, day0); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
	})
}

// cpuTime is the CPU time this process has used (user and system).
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// BenchmarkAddBatchParallel stores 25-event batches from 8 goroutines per
// core, as concurrent requests do. cpu-µs/event is the process's CPU
// time (not PostgreSQL's), steadier than the rate on a shared machine.
func BenchmarkAddBatchParallel(b *testing.B) {
	events := reportEvents("6.6.0")[:25]
	benchStores(b, func(b *testing.B, s store.Store) {
		ctx := context.Background()
		var n atomic.Int64
		start, cpu := time.Now(), cpuTime()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := n.Add(1)
				batch := store.Batch{Received: day0.Add(time.Duration(i) * time.Millisecond), Property: "G-PROD", Kind: store.Production,
					ClientID: fmt.Sprintf("c%05d", i%10000), DedupKey: fmt.Sprint(i), Counted: true, Events: events}
				if _, err := s.AddBatch(ctx, batch); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N*len(events))/time.Since(start).Seconds(), "events/s")
		b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N*len(events)), "cpu-µs/event")
	})
}
