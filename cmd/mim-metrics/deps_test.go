package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The sidecar links no SQL driver: the receiver's storage stays in the
// receiver's binary (go list -deps shows what the binary links).
func TestLinksNoSQLDrivers(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 || !contains(deps, "github.com/mim-metrics/mim-metrics/reporting") {
		t.Fatalf("go list -deps gave %d packages, without reporting: %v", len(deps), deps)
	}
	for _, d := range deps {
		// database/sql/driver (interfaces only, linked through google/uuid)
		// is no driver; database/sql itself is what drivers register with.
		if d == "database/sql" || strings.HasPrefix(d, "modernc.org/sqlite") || strings.HasPrefix(d, "github.com/jackc/pgx") ||
			strings.HasPrefix(d, "github.com/mim-metrics/mim-metrics/store") {
			t.Errorf("the sidecar links %s", d)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
