package dashboard_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/reporting"
	"github.com/mim-metrics/mim-metrics/store"
)

// The data set: clusters of every MongooseIM generation reporting daily
// for two weeks, built as the sidecar builds its requests
// (reporting.BuildRequests) from the golden reports of
// test/fixtures/*/expected.json.

const (
	prodID, prodSecret = "G-PROD0001", "prod-secret-1"
	ciID, ciSecret     = "G-CITEST01", "ci-secret-1"
	historyDays        = 14
	hostileVersion     = "<script>alert(1)</script>"
)

// hostileModule is a hundred characters of SVG markup as a module name.
var hostileModule = strings.Repeat(`<svg onload=alert(3)>`, 5)[:100]

// cluster is one simulated cluster.
type cluster struct {
	ID      string
	Kind    store.Kind
	Era     string // fixture directory, e.g. mim-6.2.1
	Version string
	// From is the first day it reports (days before today).
	From    int
	Hostile bool
	Nodes   int
}

// population is how many clusters run each generation.
var population = []struct {
	kind  store.Kind
	era   string
	count int
}{
	{store.Production, "mim-6.2.1", 12},
	{store.Production, "mim-6.4.0", 8},
	{store.Production, "mim-6.6.0", 7},
	{store.Production, "mim-6.3.0", 5},
	{store.Production, "mim-5.1.0", 6},
	{store.Production, "mim-4.2.0", 3}, // below the threshold: folded publicly
	{store.Production, "mim-3.5.0", 2}, // below the threshold: folded publicly
	{store.CI, "mim-6.6.0", 7},
	{store.CI, "mim-6.4.0", 5},
}

// hostileClusters send a script as their version and SVG as a module name:
// five of them, so that the public view shows the values too.
const hostileClusters = 5

func clusters() []cluster {
	rng := rand.New(rand.NewPCG(1, 2))
	var out []cluster
	n := 0
	for _, p := range population {
		for i := 0; i < p.count; i++ {
			n++
			out = append(out, cluster{
				ID: fmt.Sprintf("%08x-0000-4000-8000-%012d", n, n), Kind: p.kind, Era: p.era,
				Version: strings.TrimPrefix(p.era, "mim-"), From: rng.IntN(historyDays), Nodes: 1 + rng.IntN(3),
			})
		}
	}
	for i := 0; i < hostileClusters; i++ {
		n++
		out = append(out, cluster{ID: fmt.Sprintf("%08x-0000-4000-8000-%012d", n, n), Kind: store.Production,
			Era: "mim-6.2.1", Version: hostileVersion, From: 2, Hostile: true, Nodes: 1})
	}
	return out
}

// reportsOn reports c on day d (days before today): whether it reports
// that day.
func (c cluster) reportsOn(d int) bool {
	return d <= c.From && (d+c.From*7+int(c.ID[7]))%5 != 0
}

// activeOn counts the clusters that report on day d and match keep.
func activeOn(cs []cluster, d int, keep func(cluster) bool) int {
	n := 0
	for _, c := range cs {
		if c.reportsOn(d) && keep(c) {
			n++
		}
	}
	return n
}

// goldenEvents reads a generation's expected.json as events, numbers as
// int64 (as the collector makes them).
func goldenEvents(t *testing.T, era string) []contract.Event {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "fixtures", era, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var evs []contract.Event
	if err := json.Unmarshal(raw, &evs); err != nil {
		t.Fatalf("%s: %v", era, err)
	}
	return numbersAsInt64(evs)
}

// numbersAsInt64 turns the JSON numbers of events into int64.
func numbersAsInt64(evs []contract.Event) []contract.Event {
	for _, e := range evs {
		for k, v := range e.Params {
			if f, ok := v.(float64); ok {
				e.Params[k] = int64(f)
			}
		}
	}
	return evs
}

// eventsFor is what cluster c's node reports on one day.
func eventsFor(t *testing.T, c cluster, day int, golden map[string][]contract.Event) []contract.Event {
	rng := rand.New(rand.NewPCG(uint64(len(c.ID)*31+day), uint64(c.From)))
	var out []contract.Event
	for _, e := range golden[c.Era] {
		p := map[string]any{}
		for k, v := range e.Params {
			p[k] = v
		}
		switch e.Name {
		case "module_with_opt":
			// The seed's finding: no production cluster uses mod_vcard's LDAP backend.
			if c.Kind == store.Production && p["module"] == "mod_vcard" && p["backend"] == "ldap" {
				continue
			}
		case "cluster":
			p["uptime"] = metrics.FormatUptime(int64(day+1) * 86_400_000)
			p["node_number"] = int64(c.Nodes)
			if c.Hostile {
				p["version"] = c.Version
			}
		case "xmpp_stanza_count":
			inc := int64(rng.IntN(4000))
			if c.Kind == store.CI {
				inc = int64(rng.IntN(50))
			}
			p["increment"] = inc
			p["total"] = inc * int64(historyDays-day)
		}
		out = append(out, contract.Event{Name: e.Name, Params: p})
	}
	if c.Hostile {
		out = append(out, contract.Event{Name: "module_with_opt", Params: map[string]any{"module": hostileModule, "backend": "rdbms"}})
	}
	return out
}

// fill stores every cluster's reports of the last two weeks, built by
// reporting.BuildRequests for a receiver at base (http://127.0.0.1:PORT),
// and rolls the days up. send delivers one request of one day.
func fill(t *testing.T, st store.Store, base string, now time.Time, send func(req reporting.Request, c cluster, received time.Time)) []cluster {
	t.Helper()
	golden := map[string][]contract.Event{}
	cs := clusters()
	for _, c := range cs {
		if golden[c.Era] == nil {
			golden[c.Era] = goldenEvents(t, c.Era)
		}
	}
	for day := historyDays - 1; day >= 0; day-- {
		received := store.Day(now).AddDate(0, 0, -day).Add(12 * time.Hour)
		if day == 0 {
			received = now
		}
		for _, c := range cs {
			if !c.reportsOn(day) {
				continue
			}
			dest := mustReceiver(t, base, prodID, prodSecret)
			if c.Kind == store.CI {
				dest = mustReceiver(t, base, ciID, ciSecret)
			}
			report := metrics.NodeReport{Node: "mongooseim@sentinel-node-7f3a", Server: metrics.MongooseIM,
				Version: c.Version, Events: eventsFor(t, c, day, golden)}
			reqs, _, err := reporting.BuildRequests(dest, "", c.ID, received, []metrics.NodeReport{report})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range reqs {
				send(r, c, received)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	days, err := st.DaysToRollUp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(days) < historyDays/2 {
		t.Fatalf("%d days to roll up, want about %d", len(days), historyDays)
	}
	slices.SortFunc(days, func(a, b time.Time) int { return a.Compare(b) })
	for _, d := range days {
		if err := st.RollUp(ctx, d); err != nil {
			t.Fatalf("roll up %s: %v", d.Format(time.DateOnly), err)
		}
	}
	return cs
}

func mustReceiver(t *testing.T, base, id, secret string) reporting.Destination {
	t.Helper()
	d, err := reporting.ParseReceiverURL(strings.Replace(base, "http://", "http://"+id+":"+secret+"@", 1))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// addBatch stores a request's GA4 body with store.AddBatch, as the
// receiver's handler would if its validation let the request through: the
// way to put hostile values in front of the dashboard (the receiver rejects
// them, the dashboard must not depend on it).
func addBatch(t *testing.T, st store.Store, r reporting.Request, kind store.Kind, received time.Time) {
	{
		var body struct {
			ClientID        string           `json:"client_id"`
			TimestampMicros int64            `json:"timestamp_micros"`
			Events          []contract.Event `json:"events"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatalf("request body: %v", err)
		}
		prop := r.URL.Query().Get("measurement_id")
		key := fmt.Sprintf("%s/%d", body.ClientID, body.TimestampMicros)
		sum := sha256.Sum256(r.Body)
		_, err := st.AddBatch(context.Background(), store.Batch{
			Received: received, Property: prop, Kind: kind, ClientID: body.ClientID,
			ReportKey: key, DedupKey: key + "/" + hex.EncodeToString(sum[:8]),
			Counted: true, Events: numbersAsInt64(body.Events),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// post sends a request as the sidecar does, to the receiver's handler.
func post(t *testing.T, r reporting.Request) {
	t.Helper()
	req, err := http.NewRequest(r.Method, r.URL.String(), bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %s %s", r.MaskedURL(), resp.Status, body)
	}
}
