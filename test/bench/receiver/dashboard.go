package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/mim-metrics/mim-metrics/store"
)

// dashboardRow is one page or API call, timed.
type dashboardRow struct {
	store       string
	call        dashboardCall
	status      int
	bytes       int
	median, p95 time.Duration
	// cold is the first request's time, right after a roll-up (nothing of
	// the period cached).
	cold time.Duration
	reps int
}

// measureDashboard times every page and API call of the dashboard's
// handler on st: the server time (ServeHTTP, in process, with nothing
// between) of a first request right after a roll-up (the dashboard's
// cache is then empty: it keeps what it computed until the next
// roll-up), then of o.reps requests.
func measureDashboard(ctx context.Context, st store.Store, kind string, w *world, o options) ([]dashboardRow, error) {
	h, calls, err := newDashboard(st, w)
	if err != nil {
		return nil, err
	}
	logf("%s: dashboard: %d pages and API calls, %d requests each", kind, len(calls), o.reps)
	return timeCalls(ctx, st, h, kind, calls, o)
}

// timeCalls times each call of h on st: a first request right after a
// roll-up, then o.reps requests (fewer past o.budget).
func timeCalls(ctx context.Context, st store.Store, h http.Handler, kind string, calls []dashboardCall, o options) ([]dashboardRow, error) {
	var rows []dashboardRow
	for _, c := range calls {
		r := dashboardRow{store: kind, call: c, reps: o.reps}
		var times []time.Duration
		// A roll-up of nothing: the roll-up version moves, as after the
		// background job's roll-ups.
		if err := store.LoadRollups(ctx, st, nil); err != nil {
			return rows, err
		}
		began := time.Now()
		for i := 0; i <= o.reps; i++ {
			if i > 5 && time.Since(began) > o.budget {
				break // a slow call: enough requests to see it
			}
			if err := ctx.Err(); err != nil {
				return rows, err
			}
			req := httptest.NewRequestWithContext(ctx, http.MethodGet, c.path, nil)
			if c.admin {
				req.Header.Set("Authorization", "Bearer "+adminToken)
			}
			rec := httptest.NewRecorder()
			t0 := time.Now()
			h.ServeHTTP(rec, req)
			d := time.Since(t0)
			r.status, r.bytes = rec.Code, rec.Body.Len()
			if i == 0 {
				r.cold = d
			} else {
				times = append(times, d)
			}
		}
		r.reps = len(times)
		r.median, r.p95 = percentile(times, 50), percentile(times, 95)
		rows = append(rows, r)
	}
	return rows, nil
}
