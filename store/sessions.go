package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Admin sessions (the dashboard's login): rows of admin_sessions, looked up
// by a key the dashboard derives from the session id and the admin token.

func (s *sqlStore) AddSession(ctx context.Context, key string, now, expires time.Time) error {
	err := func() error {
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		// The expired sessions go at each login: the table stays small.
		if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM admin_sessions WHERE expires <= ?`), micros(now)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO admin_sessions (session_key, expires) VALUES (?, ?)`), key, micros(expires)); err != nil {
			return err
		}
		return tx.Commit()
	}()
	if err != nil {
		return fmt.Errorf("add an admin session: %w", err)
	}
	return nil
}

func (s *sqlStore) SessionValid(ctx context.Context, key string, now time.Time) (bool, error) {
	var expires int64
	err := s.r.QueryRowContext(ctx, s.rebind(`SELECT expires FROM admin_sessions WHERE session_key = ?`), key).Scan(&expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("look up an admin session: %w", err)
	}
	return micros(now) < expires, nil
}

func (s *sqlStore) DeleteSession(ctx context.Context, key string) error {
	if _, err := s.w.ExecContext(ctx, s.rebind(`DELETE FROM admin_sessions WHERE session_key = ?`), key); err != nil {
		return fmt.Errorf("delete an admin session: %w", err)
	}
	return nil
}
