package e2e_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/test/fakega"
)

// TestReceiverDestination: `once --upstream=false --receiver URL` sends
// the whole report to the receiver (a fake speaking GA4 here) and nothing
// to Google; every request of one node carries the same timestamp_micros,
// and the two nodes' differ; the secret shows in no log and no preview.
func TestReceiverDestination(t *testing.T) {
	t.Parallel()
	const secret = "recv-secret-7f3a-value"
	ga, recv := fakega.New(t), fakega.New(t)
	args, _ := base(t, ga)
	receiver := strings.Replace(recv.URL, "://", "://G-RECV7F3A:"+secret+"@", 1)
	r := run(t, ciEnv, append([]string{"once", "--report", "--upstream=false", "--receiver", receiver}, args...)...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if n := ga.RequestCount(); n != 0 {
		t.Errorf("%d requests went to Google with --upstream=false", n)
	}
	if ids := recv.MeasurementIDs(); len(ids) != 1 || ids[0] != "G-RECV7F3A" {
		t.Errorf("receiver got ids %v", ids)
	}
	hosts := 0
	for _, e := range recv.Events() {
		if e.Name == contract.HostCount {
			hosts++
		}
	}
	if hosts != 2 {
		t.Errorf("%d host_count events at the receiver, want one per node (2)", hosts)
	}
	// Requests are sent node by node; a node's requests share one time.
	var stamps []int64
	for i, b := range recv.Bodies() {
		var body struct {
			TimestampMicros int64 `json:"timestamp_micros"`
		}
		if err := json.Unmarshal(b, &body); err != nil || body.TimestampMicros == 0 {
			t.Fatalf("request %d: no timestamp_micros (%v): %s", i, err, b)
		}
		if len(stamps) == 0 || stamps[len(stamps)-1] != body.TimestampMicros {
			stamps = append(stamps, body.TimestampMicros)
		}
	}
	if len(stamps) != 2 || stamps[1] != stamps[0]+1 {
		t.Errorf("timestamps per node %v, want two, one microsecond apart", stamps)
	}
	if strings.Contains(r.stdout+r.stderr, secret) {
		t.Error("the log shows the receiver's secret")
	}
	sent := recv.RequestCount()
	p := run(t, nil, append([]string{"preview", "--upstream=false", "--receiver", receiver}, args...)...)
	if p.code != 0 || strings.Contains(p.stdout+p.stderr, secret) || !strings.Contains(p.stdout, recv.URL+"/mp/collect?api_secret=") {
		t.Errorf("preview: exit %d, the secret shows or the receiver's requests are missing:\n%s%s", p.code, p.stdout, p.stderr)
	}
	if n := recv.RequestCount(); n != sent {
		t.Errorf("preview sent %d requests", n-sent)
	}
}
