package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
)

// migrationFiles are the schema's versions, NNN_name.sql, applied in order;
// a file's number is the schema version it makes.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the migration scripts, the first one first.
func migrations() ([]string, error) {
	entries, err := migrationFiles.ReadDir("migrations")
	if err != nil {
		return nil, err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	var out []string
	for i, e := range entries {
		n, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil || n != i+1 {
			return nil, fmt.Errorf("migration %s: want number %03d", e.Name(), i+1)
		}
		data, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, string(data))
	}
	return out, nil
}

// SchemaVersion is the schema version this build migrates databases to.
func SchemaVersion() int {
	m, err := migrations()
	if err != nil {
		panic(err) // the embedded files are checked by the tests
	}
	return len(m)
}

// statements splits a migration into statements (on semicolons that end a
// line; the migrations hold no other), with {{word}} replaced.
func statements(script string, words map[string]string) []string {
	for w, v := range words {
		script = strings.ReplaceAll(script, "{{"+w+"}}", v)
	}
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(script, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "--") || trimmed == "" {
			continue
		}
		cur.WriteString(line)
		cur.WriteString("\n")
		if strings.HasSuffix(trimmed, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, cur.String())
	}
	return out
}

// migrate brings the schema to this build's version in one transaction, or
// returns an error wrapping ErrSchemaTooNew.
func (s *sqlStore) migrate(ctx context.Context) error {
	if err := s.migrateTx(ctx); err != nil {
		return fmt.Errorf("migrate %s database: %w", s.d.name, err)
	}
	return nil
}

func (s *sqlStore) migrateTx(ctx context.Context) error {
	scripts, err := migrations()
	if err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.d.lockMigrations != "" {
		if _, err := tx.ExecContext(ctx, s.d.lockMigrations); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return err
	}
	var current sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_version`).Scan(&current); err != nil {
		return err
	}
	v := int(current.Int64)
	if v > len(scripts) {
		return fmt.Errorf("%w: it is version %d, this receiver knows versions up to %d; run a newer receiver", ErrSchemaTooNew, v, len(scripts))
	}
	for ; v < len(scripts); v++ {
		for _, st := range statements(scripts[v], s.d.words) {
			if _, err := tx.ExecContext(ctx, st); err != nil {
				return fmt.Errorf("version %d: %w", v+1, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO schema_version (version) VALUES (?)`), v+1); err != nil {
			return err
		}
	}
	return tx.Commit()
}
