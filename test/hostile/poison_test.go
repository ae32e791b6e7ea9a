package hostile_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

func stanza(total, increment int64) string {
	return fmt.Sprintf(`{"name":"xmpp_stanza_count","params":{"stanza_type":"xmppMessageSent","total":%d,"increment":%d}}`, total, increment)
}

const clusterEvent = `{"name":"cluster","params":{"uptime":"0001-02:03:04","version":"6.2.1","component":0,"node_number":2,"config_type":"toml"}}`

// reportFile is a sidecar report file of client made at, one entry a node.
func reportFile(client string, at time.Time, nodes ...[]string) string {
	var ns []string
	for _, evs := range nodes {
		ns = append(ns, `{"events":[`+strings.Join(evs, ",")+`]}`)
	}
	return fmt.Sprintf(`{"client_id":%q,"generated_at":%q,"nodes":[%s]}`, client, at.UTC().Format(time.RFC3339), strings.Join(ns, ","))
}

// TestPoisonPill (finding 1): numbers no node reports, large enough to
// overflow a sum, sent by anyone who knows the property's secret (GA4) and
// in imported report files for earlier days, are dropped as implausible:
// no 503, the roll-ups of that day and of the later days complete, and the
// public sums are those of the honest clusters.
func TestPoisonPill(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		p := start(t, dsn)
		now := time.Now().UTC()
		poisonDay, honestDay := now.AddDate(0, 0, -3), now.AddDate(0, 0, -2)
		poison := []string{clusterEvent, stanza(1, math.MaxInt64)}
		bearer := []string{"Authorization", "Bearer " + adminToken}
		for i, f := range []string{
			reportFile("poison-a", poisonDay, poison, poison),
			reportFile("poison-b", poisonDay, poison),
			reportFile("honest-file", honestDay, []string{clusterEvent, stanza(500, 100)}),
		} {
			code, body, _ := p.do(t, "POST", "/api/v1/reports?property="+property, f, bearer...)
			if code != 200 {
				t.Fatalf("report file %d: %d %s", i, code, body)
			}
			if i < 2 && !strings.Contains(body, `"implausible value":`) {
				t.Errorf("report file %d: the poison is not dropped as implausible: %s", i, body)
			}
		}
		for i, client := range []string{"poison-c", "poison-d"} {
			if code, body := p.collect(t, client, clusterEvent, stanza(math.MaxInt64, math.MaxInt64)); code != 204 {
				t.Fatalf("poison request %d: %d %s, want 204 (the events dropped)", i, code, body)
			}
			if code, body := p.collect(t, client, stanza(1, math.MinInt64)); code != 204 {
				t.Fatalf("negative poison request %d: %d %s, want 204", i, code, body)
			}
		}
		for _, client := range []string{"honest-1", "honest-2"} {
			if code, body := p.collect(t, client, clusterEvent, stanza(50, 7)); code != 204 {
				t.Fatalf("honest request: %d %s", code, body)
			}
		}
		// The jobs run at start: a restart rolls up now rather than in a minute.
		p.Stop(t)
		p = start(t, dsn)
		st := openStore(t, dsn)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var left []time.Time
		if !waitFor(30*time.Second, func() bool {
			var err error
			left, err = st.DaysToRollUp(ctx)
			return err == nil && len(left) == 0
		}) {
			t.Fatalf("days still not rolled up after 30 s: %v\n%s", left, p.Logs.String())
		}
		rows, err := st.Rollups(ctx, store.RollupQuery{From: poisonDay, To: now, Version: facts.AllVersions,
			Dimensions: []string{facts.Stanza, facts.Version}})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, r := range rows {
			got[r.Day.Format(time.DateOnly)+" "+r.Dimension] += fmt.Sprintf("%s:%d/%d ", r.Value, r.Clusters, r.Sum)
		}
		want := map[string]string{
			store.Day(poisonDay).Format(time.DateOnly) + " " + facts.Version: "6.2.1:2/0 ",
			store.Day(honestDay).Format(time.DateOnly) + " " + facts.Version: "6.2.1:1/0 ",
			store.Day(honestDay).Format(time.DateOnly) + " " + facts.Stanza:  "xmppMessageSent:1/100 ",
			store.Day(now).Format(time.DateOnly) + " " + facts.Version:       "6.2.1:4/0 ",
			store.Day(now).Format(time.DateOnly) + " " + facts.Stanza:        "xmppMessageSent:2/14 ",
		}
		gotJSON, _ := json.MarshalIndent(got, "", " ")
		wantJSON, _ := json.MarshalIndent(want, "", " ")
		if string(gotJSON) != string(wantJSON) {
			t.Errorf("roll-ups:\n%s\nwant\n%s", gotJSON, wantJSON)
		}
		if strings.Contains(p.Logs.String(), "roll-up of a day fails") {
			t.Errorf("a roll-up failed:\n%s", p.Logs.String())
		}
	})
}
