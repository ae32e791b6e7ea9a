package reporting

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/mim-metrics/mim-metrics/metrics"
)

// memberWatch: one warning naming the member when it goes down (with the
// time it was last collected), one info line when it is back, nothing
// while nothing changes, and nothing when it leaves the cluster.
func TestMemberWatch(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	log := zap.New(core)
	var w memberWatch
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	up := func(n string) metrics.NodeReport { return metrics.NodeReport{Node: n} }
	down := func(n string) metrics.NodeReport {
		return metrics.NodeReport{Node: n, Down: true, Err: errors.New("node " + n + " is a member of the cluster but not running")}
	}
	failed := metrics.NodeReport{Node: "c@h", Err: errors.New("node c@h: timeout")}
	steps := []struct {
		reports []metrics.NodeReport
		want    []string // the lines logged by this step, "level: message"
	}{
		{[]metrics.NodeReport{up("a@h"), up("b@h"), failed}, nil},
		{[]metrics.NodeReport{up("a@h"), down("b@h"), failed},
			[]string{"warn: b@h is a member of the cluster but not running: last collected 2026-01-02T03:04:05Z"}},
		{[]metrics.NodeReport{up("a@h"), down("b@h")}, nil},
		// A cycle where no node answered (the seed past its time limit)
		// has no record: b is not forgotten, nor told about again after.
		{[]metrics.NodeReport{{Node: "a@h", Err: errors.New("node a@h: timeout")}}, nil},
		{[]metrics.NodeReport{up("a@h"), down("b@h")}, nil},
		{[]metrics.NodeReport{up("a@h"), up("b@h")}, []string{"info: b@h is running again: it was collected"}},
		{[]metrics.NodeReport{up("a@h"), down("b@h"), down("d@h")}, []string{
			"warn: b@h is a member of the cluster but not running: last collected 2026-01-02T03:09:05Z",
			"warn: d@h is a member of the cluster but not running: last collected " + neverCollected}},
		{[]metrics.NodeReport{up("a@h")}, nil}, // b and d left the cluster
		{[]metrics.NodeReport{up("a@h"), down("b@h")}, []string{
			"warn: b@h is a member of the cluster but not running: last collected " + neverCollected}},
	}
	for i, s := range steps {
		before := logs.Len()
		w.check(log, t0.Add(time.Duration(i)*time.Minute), s.reports)
		var got []string
		for _, e := range logs.All()[before:] {
			got = append(got, e.Level.String()+": "+e.Message)
		}
		if strings.Join(got, "\n") != strings.Join(s.want, "\n") {
			t.Errorf("step %d: logged\n%s\nwant\n%s", i, strings.Join(got, "\n"), strings.Join(s.want, "\n"))
		}
	}
}
