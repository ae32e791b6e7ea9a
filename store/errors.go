package store

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrPermanent marks a store error that retrying cannot cure: the batch
// breaks a constraint, overflows a column or is data the database refuses.
// The receiver answers it with a 4xx, never a 503.
var ErrPermanent = errors.New("the database refuses this data")

// classify wraps err with ErrPermanent when it is a permanent refusal.
func classify(err error) error {
	if err == nil || !permanent(err) {
		return err
	}
	return errors.Join(ErrPermanent, err)
}

func permanent(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// 22: data exception (numeric out of range...); 23: integrity
		// constraint violation; 54000: program limit exceeded.
		return strings.HasPrefix(pe.Code, "22") || strings.HasPrefix(pe.Code, "23") || pe.Code == "54000"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_MISMATCH, sqlite3.SQLITE_RANGE:
			return true
		case sqlite3.SQLITE_ERROR:
			return strings.Contains(se.Error(), "integer overflow")
		}
	}
	return false
}
