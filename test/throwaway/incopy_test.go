package throwaway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/dashboard"
	"github.com/mim-metrics/mim-metrics/receiver"
	"github.com/mim-metrics/mim-metrics/store"
	"github.com/mim-metrics/mim-metrics/test/testkit"
)

// TestInCopy runs in the copy TestThrowawayMetric made: clusters send the
// new golden report through the receiver, some with other values of the
// new metric, some from a version that cannot report it; the metric's
// chart then says what the test counts itself.
func TestInCopy(t *testing.T) {
	if os.Getenv(inCopy) == "" {
		t.Skip("TestThrowawayMetric runs it in a copy of the repository")
	}
	golden := goldenEvents(t)
	// Each cluster's value of the metric ("" for a version before 6.6.0,
	// which does not send it).
	values := []string{"5", "5", "5", "500", "500", "500", "", "", ""}
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "receiver.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rc, err := receiver.New(receiver.Config{
		Store:          st,
		Properties:     []receiver.Property{{ID: "G-THROWAWAY", Secret: "throwaway-secret", Kind: store.Production}},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		ClientLimit:    receiver.Limit{Rate: rate.Inf, Burst: 1},
		AddressLimit:   receiver.Limit{Rate: rate.Inf, Burst: 1},
		Now:            func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	rc.Register(mux)
	ingest := httptest.NewServer(mux)
	defer ingest.Close()
	for i, v := range values {
		sender := testkit.GA4Sender{Base: ingest.URL, Property: "G-THROWAWAY", Secret: "throwaway-secret", Address: fmt.Sprintf("198.18.0.%d", i+1)}
		testkit.SendGA4(t, sender, fmt.Sprintf("throwaway-cluster-%d", i), reportOf(golden, v), now)
	}
	if err := rc.FlushCounts(ctx); err != nil {
		t.Fatal(err)
	}
	testkit.RollUpAll(t, ctx, st)

	// The truth, counted here: per bucket of the metric, the clusters;
	// the shares are of those that could report it.
	want := map[string]int64{}
	canReport, notReported := int64(0), int64(0)
	for _, v := range values {
		if v == "" {
			notReported++
			continue
		}
		canReport++
		want[bucket(v)]++
	}
	dash := httptest.NewServer(dashboard.New(st, dashboard.Options{MinClusters: 3, Now: func() time.Time { return now }}))
	defer dash.Close()
	c := getChart(t, dash.URL+"/api/v1/"+chartID+".json?period=30")
	seen := map[string]bool{}
	for _, p := range c.Points {
		if p.Series != "production" {
			continue
		}
		seen[p.Label] = true
		switch {
		case p.Hidden != "":
			t.Errorf("%s: hidden (%s), want %d clusters", p.Label, p.Hidden, want[p.Label])
		case p.Clusters != want[p.Label] || math.Abs(p.Share-float64(want[p.Label])/float64(canReport)) > 1e-9:
			t.Errorf("%s: %d clusters, share %v; want %d of %d", p.Label, p.Clusters, p.Share, want[p.Label], canReport)
		}
	}
	for label := range want {
		if !seen[label] {
			t.Errorf("the chart has no point %q: %+v", label, c.Points)
		}
	}
	// The base: the shares are of the clusters that could report it; the
	// others are not reported.
	base := false
	for _, b := range c.Bases {
		if b.Series != "production" {
			continue
		}
		base = true
		if b.Clusters != canReport || b.Active != int64(len(values)) || b.NotReported != notReported || b.Hidden != "" || b.NotReportedHidden != "" {
			t.Errorf("the base: %+v, want %d clusters that could report it of %d active, %d not reported", b, canReport, len(values), notReported)
		}
	}
	if !base {
		t.Errorf("the chart does not say what its shares are of: %+v", c)
	}
	if page := get(t, dash.URL+"/shape"); !strings.Contains(page, "Largest client queue") {
		t.Errorf("/shape does not draw the new chart")
	}
	if page := get(t, dash.URL+"/methodology"); !strings.Contains(page, metric) {
		t.Errorf("/methodology does not explain %s", metric)
	}
}

// bucket is what the metric's value counts under (facts.CountBucket's
// buckets, written out here).
func bucket(v string) string {
	switch v {
	case "5":
		return "2-10"
	case "500":
		return "101-1000"
	}
	panic("no bucket for " + v)
}

// goldenEvents are the copy's golden report of the generation.
func goldenEvents(t *testing.T) []map[string]any {
	data, err := os.ReadFile(filepath.Join("..", "fixtures", generation, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.ReplaceAll(data, []byte(`"<uptime>"`), []byte(`"0001-02:03:04"`))
	var events []map[string]any
	if err := json.Unmarshal(data, &events); err != nil {
		t.Fatal(err)
	}
	return events
}

// reportOf is the golden report with the metric's value v, or, for "",
// as the version before 6.6.0 sends it: without the metric.
func reportOf(golden []map[string]any, v string) []contract.Event {
	var out []contract.Event
	for _, e := range golden {
		params, _ := e["params"].(map[string]any)
		switch {
		case e["name"] == metric && v == "":
			continue
		case e["name"] == metric:
			params = map[string]any{"value": json.Number(v)}
		case e["name"] == "cluster" && v == "":
			p := map[string]any{}
			for k, x := range params {
				p[k] = x
			}
			p["version"] = "6.5.0"
			params = p
		}
		out = append(out, contract.Event{Name: e["name"].(string), Params: params})
	}
	return out
}

type chart struct {
	Bases []struct {
		Series, Hidden    string
		NotReportedHidden string `json:"not_reported_hidden"`
		Clusters, Active  int64
		NotReported       int64 `json:"not_reported"`
	}
	Points []struct {
		Series, Label, Hidden string
		Clusters              int64
		Share                 float64
	}
}

func getChart(t *testing.T, url string) chart {
	var c chart
	if err := json.Unmarshal([]byte(get(t, url)), &c); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return c
}

func get(t *testing.T, url string) string {
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s %s", url, resp.Status, body)
	}
	return string(body)
}
