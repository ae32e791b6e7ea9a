-- The admin view's cluster list, paged in SQL: sorted by first seen, or by
-- kind then last seen, or by id, without sorting every cluster.
CREATE INDEX clusters_first_seen ON clusters (first_seen);
CREATE INDEX clusters_kind_last_seen ON clusters (kind, last_seen DESC);
CREATE INDEX clusters_client_id ON clusters (client_id);
