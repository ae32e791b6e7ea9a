package store_test

import (
	"testing"
	"time"
)

// Sessions are found by key until they expire or are deleted; a second
// store on the same database sees them.
func TestSessions(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		a, b := open(t, dsn), open(t, dsn)
		now := at(0, 10)
		if err := a.AddSession(ctxT(t), "k1", now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := a.AddSession(ctxT(t), "k2", now, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		valid := func(key string, at time.Time) bool {
			t.Helper()
			ok, err := b.SessionValid(ctxT(t), key, at)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !valid("k1", now) || !valid("k2", now) || valid("k3", now) {
			t.Error("the sessions as stored")
		}
		if valid("k2", now.Add(time.Minute)) {
			t.Error("k2 still valid when it expires")
		}
		if err := b.DeleteSession(ctxT(t), "k1"); err != nil {
			t.Fatal(err)
		}
		if valid("k1", now) {
			t.Error("k1 valid after its deletion")
		}
		// A login drops the expired sessions.
		if err := a.AddSession(ctxT(t), "k4", now.Add(2*time.Minute), now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := rawDB(t, dsn).QueryRowContext(ctxT(t), `SELECT count(*) FROM admin_sessions`).Scan(&n); err != nil || n != 1 {
			t.Errorf("%d sessions kept (%v), want 1", n, err)
		}
	})
}
