package reporting

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/test/fakega"
)

// The preview shows exactly the requests the sender sends, secret masked,
// and sends nothing.
func TestPreviewShowsWhatIsSent(t *testing.T) {
	t.Parallel()
	ga := fakega.New(t)
	log, logs := observed()
	own := mustDest(t, "G-OWN1:Own/Secret+Value=1234567")
	src := &fakeSource{clusterID: "cid", reports: []metrics.NodeReport{mimReport("mim@host1"), mimReport("mim2@host2")}}
	cfg := testConfig(t, src, ga.URL, log)
	cfg.Targets = Targets{Upstream: true, Own: []Destination{own, mustDest(t, "UA-1-2")}}
	svc := newService(t, cfg)

	var out bytes.Buffer
	if err := svc.Preview(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	if n := ga.RequestCount(); n != 0 {
		t.Fatalf("preview sent %d requests", n)
	}
	text := out.String()
	for _, want := range []string{
		"# MongooseIM cluster: reports go to MongooseIM's Google Analytics property G-B4S18X6KY5",
		"# ==== GA4 G-B4S18X6KY5 (MongooseIM upstream): 2 request(s)",
		"POST " + ga.URL + "/mp/collect?api_secret=Rj6l…(masked)&measurement_id=G-B4S18X6KY5",
		"POST " + ga.URL + "/mp/collect?api_secret=Own/…(masked)&measurement_id=G-OWN1",
		"POST " + ga.URL + "/batch",
		"Content-Type: application/json",
		"User-Agent: mim-metrics",
		"# request 1/2: node mim@host1",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("preview lacks %q", want)
		}
	}
	for _, secret := range []string{own.Secret, "Own%2FSecret", UpstreamDestination(false).Secret} {
		if strings.Contains(text, secret) {
			t.Errorf("preview shows the secret %q", secret)
		}
	}

	// Now send for real: every body sent appears verbatim in the preview.
	if _, err := svc.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	bodies := ga.Bodies()
	if len(bodies) != 6 {
		t.Fatalf("%d requests sent, want 6 (3 destinations × 2 nodes)", len(bodies))
	}
	for i, b := range bodies {
		if !strings.Contains(text, "\n"+string(b)+"\n") {
			t.Errorf("sent body %d is not in the preview:\n%s", i, b)
		}
	}
	if strings.Contains(logText(logs), own.Secret) {
		t.Error("secret logged")
	}
}

func TestPreviewWithoutDestinations(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	r := mimReport("ejabberd@localhost")
	r.Server = metrics.Ejabberd
	if err := Preview(&out, NewTargets(true, nil, nil).For(metrics.Ejabberd), DefaultEndpoint, "cid", time.Time{}, []metrics.NodeReport{r}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "nothing would be sent") {
		t.Errorf("preview = %s", out.String())
	}
}

func TestPreviewListsDroppedEvents(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	r := metrics.NodeReport{Node: "mim@h", Events: []metrics.Event{{Name: "ok"}, {Name: "error"}}}
	if err := Preview(&out, []Destination{UpstreamDestination(false)}, DefaultEndpoint, "cid", time.Time{}, []metrics.NodeReport{r}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `# dropped event "error" of node mim@h: event name "error" is reserved`) {
		t.Errorf("preview = %s", out.String())
	}
}
