package store

import (
	"strconv"
	"strings"
)

// dialect is the SQL text that differs between SQLite and PostgreSQL; how
// each one writes batches and rolls up days is its batchWriter and its
// dayRoller.
type dialect struct {
	name string
	// words replace {{word}} in the migrations: the column types.
	words map[string]string
	// numbered: placeholders are $1, $2... (the SQL is written with ?).
	numbered bool
	// jsonRows is a FROM item naming alias the rows of param, a JSON array
	// argument: alias.value is one element's JSON.
	jsonRows func(param, alias string) string
	// dayOfMicros is the 'YYYY-MM-DD' (UTC) of column, Unix microseconds.
	dayOfMicros func(column string) string
	// lockMigrations, when not empty, serialises the migrations of several
	// receivers on one database.
	lockMigrations string
}

// rebind turns ? placeholders into $n where the dialect numbers them.
func (d dialect) rebind(q string) string {
	if !d.numbered || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// placeholders returns " VALUES (?, ...), ..." for rows rows of cols columns.
func placeholders(cols, rows int) string {
	row := "(" + strings.Repeat("?, ", cols-1) + "?)"
	return " VALUES " + strings.Repeat(row+", ", rows-1) + row
}
