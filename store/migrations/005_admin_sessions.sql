-- Admin sessions, one per login, shared by every receiver on the database.
-- session_key is an HMAC of the session id (the cookie's value) keyed by
-- the admin token: neither the cookie nor the token is stored, and a
-- session made under another token is never found (a new token ends every
-- session). expires is Unix microseconds.
CREATE TABLE admin_sessions (
    session_key TEXT PRIMARY KEY,
    expires BIGINT NOT NULL
){{without_rowid}};
CREATE INDEX admin_sessions_expires ON admin_sessions (expires);
