package dashboard_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mim-metrics/mim-metrics/dashboard"
	"github.com/mim-metrics/mim-metrics/store"
)

// The feature pages over HTTP: linked from the features page, a TLS mode
// with a slash in its value, the API's numbers, and no public page for a
// rare custom value.
func TestFeaturePagesOverHTTP(t *testing.T) {
	st := open(t, "sqlite:"+filepath.Join(t.TempDir(), "d.db"))
	for i := 0; i < 12; i++ {
		more := []any{"tcp", "enabled"}
		if i < 6 {
			more = append(more, "mod_bosh", "enabled")
		}
		report(t, st, store.Production, fmt.Sprintf("cluster-%d", i), 0, "6.2.1",
			event("transport_mechanism", more...), event("tls_option", "mode", "starttls", "module", "fast_tls"))
	}
	report(t, st, store.Production, "lonely", 0, "6.2.1", event("http_api", "secret_api_sentinel", "enabled"))
	rollUp(t, st)
	srv := server(t, st, dashboard.Options{AdminToken: token})

	_, _, page := get(t, srv.URL+"/features?period=90")
	for _, link := range []string{`href="/features/transport/mod_bosh?kind=all&amp;period=90&amp;version=%2A"`, `href="/features/tls/starttls%2Ffast_tls?`} {
		if !strings.Contains(page, link) {
			t.Errorf("the features page has no link %s", link)
		}
	}
	if code, _, body := get(t, srv.URL+"/features/tls/starttls%2Ffast_tls"); code != 200 || !strings.Contains(body, "TLS mode starttls/fast_tls") {
		t.Errorf("the TLS mode's page: %d", code)
	}
	// 6 with BOSH and 7 without (the lonely cluster too): both at least K.
	c := apiJSON(t, srv, "/api/v1/feature-weeks.json?kind=production&feature=transport&value=mod_bosh")
	if len(c.Points) != 1 || c.Points[0].Clusters != 6 || c.Points[0].Share != round4(6.0/13) {
		t.Errorf("mod_bosh this week: %+v, want 6 of the 13 active clusters", c.Points)
	}
	c = apiJSON(t, srv, "/api/v1/feature-versions.json?kind=production&feature=transport&value=tcp")
	if p, ok := find(c, "production", "", "6.2.1"); !ok || p.Clusters != 12 || p.Share != 1 {
		t.Errorf("tcp on 6.2.1: %+v %v, want its 12 clusters", p, ok)
	}
	if code, _, body := get(t, srv.URL+"/features/http-api/secret_api_sentinel"); code != 404 || !strings.Contains(body, "enough clusters") {
		t.Errorf("a custom HTTP API of one cluster: %d in public", code)
	}
	if code, _, _ := get(t, srv.URL+"/api/v1/feature-weeks.json?feature=http-api&value=secret_api_sentinel"); code != 404 {
		t.Errorf("the API of a custom HTTP API of one cluster: %d in public", code)
	}
	if code, _, _ := get(t, srv.URL+"/features/http-api/secret_api_sentinel", "Authorization", "Bearer "+token); code != 200 {
		t.Errorf("the admin's page of the custom HTTP API: %d", code)
	}
	for _, bad := range []string{"/features/nosuch/tcp", "/api/v1/feature-weeks.json?feature=transport"} {
		if code, _, _ := get(t, srv.URL+bad); code != 404 && code != 400 {
			t.Errorf("GET %s: %d, want a refusal", bad, code)
		}
	}
}

func round4(x float64) float64 { return float64(int64(x*10000+0.5)) / 10000 }
