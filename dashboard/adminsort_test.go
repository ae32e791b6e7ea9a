package dashboard_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mim-metrics/mim-metrics/dashboard"
)

// The admin's cluster list sorted by version: the newest first, or the
// oldest when asked.
func TestAdminListSortsByVersion(t *testing.T) {
	st := open(t, "sqlite:"+filepath.Join(t.TempDir(), "d.db"))
	sample(t, st) // cluster-0…5 on 6.2.1, ci-1 on 6.6.0, lonely on 7.0.0-rare
	srv := server(t, st, dashboard.Options{AdminToken: token})
	order := func(query string) []string {
		code, _, body := get(t, srv.URL+"/admin?"+query, "Authorization", "Bearer "+token)
		if code != 200 {
			t.Fatalf("GET /admin?%s: %d", query, code)
		}
		var ids []string
		for _, part := range strings.Split(body, `/admin/cluster?`)[1:] {
			for _, id := range []string{"lonely", "ci-1", "cluster-0"} {
				if i := strings.Index(part, ">"+id+"<"); i >= 0 && i < 400 {
					ids = append(ids, id)
				}
			}
		}
		return ids
	}
	if got := order("sort=version"); len(got) < 3 || got[0] != "lonely" || got[1] != "ci-1" {
		t.Errorf("by version, newest first: %v, want lonely (7.0.0-rare), ci-1 (6.6.0), then the 6.2.1 clusters", got)
	}
	if got := order("sort=version&order=asc"); len(got) < 3 || got[len(got)-1] != "lonely" || got[len(got)-2] != "ci-1" {
		t.Errorf("by version, oldest first: %v", got)
	}
	if _, _, body := get(t, srv.URL+"/admin", "Authorization", "Bearer "+token); !strings.Contains(body, "sort=hosts") || !strings.Contains(body, "sort=nodes") {
		t.Errorf("the admin page offers no sort by nodes and hosts")
	}
}
