-- The admin view at a million clusters. The cluster list sorted by
-- version, nodes or hosts in SQL:
-- each cluster's latest profile described in sortable columns, set by the
-- roll-ups (store/describe.go). described_day is the day of the profile
-- described (days since 1970-01-01), -1: not yet described.
ALTER TABLE clusters ADD COLUMN version_key TEXT NOT NULL DEFAULT '';
ALTER TABLE clusters ADD COLUMN nodes_rank INTEGER NOT NULL DEFAULT -1;
ALTER TABLE clusters ADD COLUMN hosts_rank INTEGER NOT NULL DEFAULT -1;
ALTER TABLE clusters ADD COLUMN described_day INTEGER NOT NULL DEFAULT -1;
-- Each index holds the whole ORDER BY (store/clusterlist.go): PostgreSQL's
-- indexes do not end with the primary key as SQLite's do, and a sort key
-- of a few values would leave it sorting every cluster of the value.
CREATE INDEX clusters_version_key ON clusters (version_key, property, client_id);
CREATE INDEX clusters_nodes_rank ON clusters (nodes_rank, property, client_id);
CREATE INDEX clusters_hosts_rank ON clusters (hosts_rank, property, client_id);
-- The last report per property (Store.LastReports) without reading every
-- cluster: each property's latest last_seen is the end of its range.
CREATE INDEX clusters_property_last_seen ON clusters (property, last_seen);
-- The clusters a roll-up describes although their profile did not change.
CREATE INDEX clusters_undescribed ON clusters (last_seen) WHERE described_day < 0;

-- The clusters already kept are described when their days are rolled up
-- again (those whose facts the retention kept).
INSERT INTO dirty_marks (day) SELECT DISTINCT day FROM facts;
