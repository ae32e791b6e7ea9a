package dashboard_test

import (
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/dashboard"
)

// A session expires on the server after 12 hours, whatever the browser
// keeps: the clock moves, the same cookie no longer opens /admin.
func TestSessionExpiresOnTheServer(t *testing.T) {
	st := open(t, "sqlite:"+filepath.Join(t.TempDir(), "d.db"))
	var mu sync.Mutex
	clock := now
	srv := server(t, st, dashboard.Options{AdminToken: token, Now: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return clock
	}})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(srv.URL+"/admin/login", url.Values{"token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 303 || len(resp.Cookies()) != 1 {
		t.Fatalf("login: %d %v", resp.StatusCode, resp.Cookies())
	}
	c := resp.Cookies()[0]
	at := func(d time.Duration) int {
		mu.Lock()
		clock = now.Add(d)
		mu.Unlock()
		code, _, _ := get(t, srv.URL+"/admin", "Cookie", c.Name+"="+c.Value)
		return code
	}
	if code := at(11*time.Hour + 59*time.Minute); code != 200 {
		t.Errorf("a session at 11:59: %d, want 200", code)
	}
	if code := at(12 * time.Hour); code != 401 {
		t.Errorf("a session at 12:00: %d, want 401 (expired)", code)
	}
	// A forged cookie of the right shape opens nothing.
	code, _, _ := get(t, srv.URL+"/admin", "Cookie", c.Name+"=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	if code != 401 {
		t.Errorf("a forged session id: %d", code)
	}
}
