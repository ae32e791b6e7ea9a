package receiver

import (
	"errors"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// An outage is one line when it starts, one summary a minute while it
// lasts (whatever the number of refused writes), one line when it ends.
func TestOutageLoggedOnceAndSummarised(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	s := writeState{log: zap.New(core)}
	now := testNow
	down := errors.New("disk full")
	s.worked(now)           // no outage: nothing to say
	for range 3 * 60 * 10 { // three minutes at ten refusals a second
		now = now.Add(100 * time.Millisecond)
		s.failed(now, down)
	}
	if s.problem() == "" {
		t.Error("no problem during the outage")
	}
	s.worked(now)
	if s.problem() != "" {
		t.Error("still a problem after a write worked")
	}
	start := logs.FilterMessage("the store refuses writes: ingest requests are answered 503 until it recovers (a summary every minute)").Len()
	summaries := logs.FilterMessage("the store still refuses writes").All()
	end := logs.FilterMessage("the store takes writes again").Len()
	if start != 1 || len(summaries) != 2 || end != 1 || logs.Len() != 4 {
		t.Errorf("log lines: %d start, %d summaries, %d end, %d in all; want 1, 2, 1, 4", start, len(summaries), end, logs.Len())
	}
	if len(summaries) > 0 {
		if n := summaries[0].ContextMap()["refused_since_last_line"]; n != int64(600) {
			t.Errorf("the first summary counts %v refusals, want 600", n)
		}
	}
}
