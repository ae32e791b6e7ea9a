package main

import (
	"strings"
	"testing"

	"github.com/mim-metrics/mim-metrics/test/testkit"
)

// The sidecar links no SQL driver: the receiver's storage stays in the
// receiver's binary (go list -deps shows what the binary links).
func TestLinksNoSQLDrivers(t *testing.T) {
	t.Parallel()
	deps := testkit.Deps(t, "github.com/mim-metrics/mim-metrics/reporting")
	for _, d := range deps {
		// database/sql/driver (interfaces only, linked through google/uuid)
		// is no driver; database/sql itself is what drivers register with.
		if d == "database/sql" || strings.HasPrefix(d, "modernc.org/sqlite") || strings.HasPrefix(d, "github.com/jackc/pgx") ||
			strings.HasPrefix(d, "github.com/mim-metrics/mim-metrics/store") {
			t.Errorf("the sidecar links %s", d)
		}
	}
}
