package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, "sqlite"
)

var sqliteDialect = dialect{
	name:  "SQLite",
	words: map[string]string{"id": "INTEGER PRIMARY KEY", "without_rowid": " WITHOUT ROWID", "serial": "INTEGER PRIMARY KEY AUTOINCREMENT"},
	jsonRows: func(param, alias string) string {
		return "json_each(" + param + ") AS " + alias
	},
	dayOfMicros: func(column string) string {
		return "strftime('%Y-%m-%d', " + column + " / 1000000, 'unixepoch')"
	},
}

// sqliteReaders is how many connections read at once (WAL readers do not
// block the writer).
const sqliteReaders = 4

// OpenSQLite opens (creating it if needed) the SQLite database at path, in
// WAL mode, and migrates it. Writes go through a single connection.
func OpenSQLite(ctx context.Context, path string) (Store, error) {
	common := url.Values{}
	common.Add("_pragma", "busy_timeout(10000)")
	writer := url.Values{"_txlock": {"immediate"}}
	writer["_pragma"] = append(common["_pragma"], "journal_mode(WAL)", "synchronous(FULL)")
	reader := url.Values{}
	reader["_pragma"] = append(common["_pragma"], "query_only(1)")

	if path == "" || strings.Contains(path, "?") {
		return nil, fmt.Errorf("SQLite file %q: want a file name without '?'", path)
	}
	w, err := sql.Open("sqlite", path+"?"+writer.Encode())
	if err != nil {
		return nil, fmt.Errorf("open SQLite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open SQLite %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", path+"?"+reader.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open SQLite %s: %w", path, err)
	}
	r.SetMaxOpenConns(sqliteReaders)
	r.SetMaxIdleConns(sqliteReaders)
	s, err := newSQLStore(ctx, sqliteDialect, w, r, nil)
	if err != nil {
		return nil, fmt.Errorf("open SQLite %s: %w", path, err)
	}
	bw, err := newSQLiteWriter(ctx, w, sqliteDialect)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("open SQLite %s: %w", path, err)
	}
	s.writer, s.roller = bw, &sqliteRoller{s: s}
	return s, nil
}
