package reporting

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/test/fakega"
)

func TestUAEncodingAndBatches(t *testing.T) {
	t.Parallel()
	ga := fakega.New(t)
	// 45 hits: one per outgoing pool, one with a value that needs escaping.
	var evs []contract.Event
	for i := range 44 {
		evs = append(evs, contract.Event{Name: contract.OutgoingPool, Params: map[string]any{"value": fmt.Sprintf("pool%d", i)}})
	}
	evs = append(evs, contract.Event{Name: contract.Cluster, Params: map[string]any{"version": "6.0.0-12 g&x=y/é"}})
	reports := []metrics.NodeReport{{Node: "mim@h", Server: metrics.MongooseIM, Events: evs}}
	dest := mustDest(t, "UA-151671255-3")

	reqs, dropped, err := BuildRequests(dest, ga.URL, "c1d 2", time.Time{}, reports)
	if err != nil || len(dropped) > 0 {
		t.Fatalf("BuildRequests: %v, dropped %v", err, dropped)
	}
	var sizes []int
	for _, r := range reqs {
		sizes = append(sizes, len(strings.Split(string(r.Body), "\n")))
	}
	if fmt.Sprint(sizes) != "[20 20 5]" {
		t.Errorf("hits per request = %v, want [20 20 5]", sizes)
	}
	first := strings.Split(string(reqs[0].Body), "\n")[0]
	if want := "v=1&tid=UA-151671255-3&t=event&cid=c1d+2&ec=outgoing_pools&ea=type&el=pool0"; first != want {
		t.Errorf("first hit\n got %s\nwant %s", first, want)
	}
	if !strings.Contains(string(reqs[2].Body), "ec=cluster&ea=mim_version&el=6.0.0-12+g%26x%3Dy%2F%C3%A9") {
		t.Errorf("escaped hit missing from %s", reqs[2].Body)
	}

	log, logs := observed()
	cfg := testConfig(t, &fakeSource{clusterID: "c1d 2", reports: reports}, ga.URL, log)
	cfg.Targets = Targets{Upstream: false, Own: []Destination{dest}}
	s := newService(t, cfg)
	for range 2 {
		if res, err := s.RunOnce(context.Background()); err != nil || !res.Accepted() {
			t.Fatalf("RunOnce = %+v, %v", res, err)
		}
	}
	hits := ga.Events()
	if len(hits) != 90 {
		t.Fatalf("fake GA got %d hits, want 90", len(hits))
	}
	last := hits[44]
	if last.TrackingID != "UA-151671255-3" || last.CID != "c1d 2" || last.Category != "cluster" || last.Action != "mim_version" || last.Label != "6.0.0-12 g&x=y/é" {
		t.Errorf("decoded hit = %+v", last)
	}
	if n := len(logs.FilterMessageSnippet("Universal Analytics").All()); n != 1 {
		t.Errorf("%d UA sunset warnings, want exactly 1:\n%s", n, logText(logs))
	}
}

func TestUAHitSizeLimits(t *testing.T) {
	t.Parallel()
	// Values are at most 100 characters, so a hit stays far below 8 KiB;
	// many long hits still have to respect the 16 KiB batch limit.
	var evs []contract.Event
	for i := range 40 {
		evs = append(evs, contract.Event{Name: contract.OutgoingPool, Params: map[string]any{"value": strings.Repeat("€", 99) + fmt.Sprint(i%10)}})
	}
	reqs, _, err := BuildRequests(mustDest(t, "UA-1-2"), DefaultEndpoint, strings.Repeat("c", 36), time.Time{}, []metrics.NodeReport{{Node: "n", Events: evs}})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for i, r := range reqs {
		if len(r.Body) > contract.MaxUABatchBytes {
			t.Errorf("request %d is %d bytes, more than %d", i, len(r.Body), contract.MaxUABatchBytes)
		}
		for _, line := range strings.Split(string(r.Body), "\n") {
			if len(line) > contract.MaxUAHitBytes {
				t.Errorf("hit of %d bytes", len(line))
			}
			if _, err := url.ParseQuery(line); err != nil {
				t.Errorf("hit does not parse: %v", err)
			}
			total++
		}
	}
	if total != 40 || len(reqs) < 3 {
		t.Errorf("%d hits in %d requests; want 40 hits split by the 16 KiB limit", total, len(reqs))
	}
}
