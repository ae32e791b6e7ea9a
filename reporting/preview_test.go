package reporting

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/contract"
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
	if err := svc.Preview(context.Background(), &out, false); err != nil {
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
	for _, secret := range []string{own.Secret, "Own%2FSecret", upstreamDestination(false).Secret} {
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
	if err := writeRequests(&out, NewTargets(true, nil, nil).For(metrics.Ejabberd), DefaultEndpoint, "cid", time.Time{}, []metrics.NodeReport{r}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "nothing would be sent") {
		t.Errorf("preview = %s", out.String())
	}
}

func TestPreviewListsDroppedEvents(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	r := metrics.NodeReport{Node: "mim@h", Events: []contract.Event{{Name: "ok"}, {Name: "error"}}}
	if err := writeRequests(&out, []Destination{upstreamDestination(false)}, DefaultEndpoint, "cid", time.Time{}, []metrics.NodeReport{r}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `# dropped event "error" of node mim@h: event name "error" is reserved`) {
		t.Errorf("preview = %s", out.String())
	}
}

// The preview's JSON lists every node, a failed one with its error; the
// error says how many failed. When none answered, nothing is written and
// the error is the node's own, once, still matching its cause.
func TestPreviewOfFailedNodes(t *testing.T) {
	t.Parallel()
	ga := fakega.New(t)
	down := fmt.Errorf("wrapped: %w", errNodeDown)
	for _, c := range []struct {
		name    string
		reports []metrics.NodeReport
		want    string // the error
		written bool
	}{
		{"one of two", []metrics.NodeReport{mimReport("mim@host1"), {Node: "mim@host2", Err: down}}, "1 of 2 nodes could not be collected", true},
		{"the only one", []metrics.NodeReport{{Node: "mim@host2", Err: down}}, down.Error(), false},
		{"both", []metrics.NodeReport{{Node: "mim@host1", Err: down}, {Node: "mim@host2", Err: down}}, "none of the 2 nodes could be collected: " + down.Error() + " | " + down.Error(), false},
	} {
		src := &fakeSource{clusterID: "cid", reports: c.reports}
		svc := newService(t, testConfig(t, src, ga.URL, nil))
		var out bytes.Buffer
		err := svc.Preview(context.Background(), &out, true)
		if err == nil || err.Error() != c.want || !errors.Is(err, errNodeDown) && !c.written {
			t.Errorf("%s: error %v, want %q matching errNodeDown", c.name, err, c.want)
		}
		if !c.written {
			if out.Len() != 0 {
				t.Errorf("%s: wrote %q", c.name, out.String())
			}
			continue
		}
		var got []previewReport
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("%s: --json output is not JSON: %v\n%s", c.name, err, out.String())
		}
		if len(got) != 2 || got[1].Error != down.Error() || got[0].Error != "" || len(got[0].Events) == 0 {
			t.Errorf("%s: %+v", c.name, got)
		}
	}
}

var errNodeDown = errors.New("node mim@host2 unreachable: down")
