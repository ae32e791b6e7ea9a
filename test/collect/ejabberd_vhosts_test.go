package collect_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/test/erltest"
)

// TestEjabberdThousandVhosts collects an ejabberd of 1,000 virtual hosts:
// the first collection still takes at most 3 round trips and the next one
// 1 (collectOnce checks both), every host is counted, and no host name
// leaves.
func TestEjabberdThousandVhosts(t *testing.T) {
	if !erltest.EjabberdAvailable() {
		t.Skip("ejabberd not installed")
	}
	t.Parallel()
	ej, err := erltest.StartEjabberd(erltest.EjabberdOptions{ExtraHosts: 998, StartTimeout: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ej.Stop)
	reports, _, _ := collectOnce(t, []string{ej.Name()}, ej.Cookie(), true)
	if len(reports) != 1 || reports[0].Err != nil {
		t.Fatalf("reports: %+v", reports)
	}
	if got := findEvents(reports[0].Events, "host_count"); len(got) != 1 || fmt.Sprint(got[0].Params["value"]) != "1000" {
		t.Errorf("host_count = %v, want 1000", got)
	}
	assertNoSentinel(t, "1,000-vhost ejabberd report", eventsJSON(reports[0].Events), sentinels(t))
}
