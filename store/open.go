package store

import (
	"context"
	"fmt"
	"strings"
)

// Open opens the store a database URL names: sqlite:PATH, or
// postgres://... / postgresql://...
func Open(ctx context.Context, dsn string) (Store, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			return nil, fmt.Errorf("database %q: no file after sqlite:, e.g. sqlite:./mim-metrics.db", dsn)
		}
		return OpenSQLite(ctx, path)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return OpenPostgres(ctx, dsn)
	}
	return nil, fmt.Errorf("database %q: want sqlite:PATH or postgres://USER:PASSWORD@HOST/DB", redact(dsn))
}

// redact hides what could be a password in a DSN that is shown back.
func redact(dsn string) string {
	if at := strings.LastIndex(dsn, "@"); at >= 0 {
		return "…" + dsn[at:]
	}
	return dsn
}
