-- The first schema. Times are Unix microseconds (UTC); days are
-- 'YYYY-MM-DD' (UTC). {{id}}, {{without_rowid}} are the dialect's words
-- for an auto-numbered primary key and a table clustered on its key.

-- Raw events, one row per event, kept for the retention period.
CREATE TABLE events (
    id {{id}},
    received BIGINT NOT NULL,
    property TEXT NOT NULL,
    kind TEXT NOT NULL,
    client_id TEXT NOT NULL,
    report_key TEXT NOT NULL,
    country TEXT NOT NULL,
    name TEXT NOT NULL,
    params TEXT NOT NULL
);
CREATE INDEX events_received ON events (received, id);

-- Dedup keys of stored batches (retried requests are not stored twice).
CREATE TABLE dedup_keys (
    dedup_key TEXT NOT NULL PRIMARY KEY,
    received BIGINT NOT NULL
){{without_rowid}};
CREATE INDEX dedup_keys_received ON dedup_keys (received);

-- What each cluster stated per day; amount summed (stanza increments).
CREATE TABLE facts (
    day TEXT NOT NULL,
    property TEXT NOT NULL,
    client_id TEXT NOT NULL,
    dimension TEXT NOT NULL,
    value TEXT NOT NULL,
    amount BIGINT NOT NULL,
    PRIMARY KEY (day, property, client_id, dimension, value)
){{without_rowid}};
CREATE INDEX facts_client ON facts (client_id, day);

-- Every cluster ever seen (never deleted: "new" vs "returning").
CREATE TABLE clusters (
    property TEXT NOT NULL,
    client_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    counted INTEGER NOT NULL,
    PRIMARY KEY (property, client_id)
){{without_rowid}};
CREATE INDEX clusters_last_seen ON clusters (last_seen);

-- Days whose facts changed since they were last rolled up.
CREATE TABLE dirty_days (
    day TEXT NOT NULL PRIMARY KEY
){{without_rowid}};

-- Distinct clusters per day, kind, version and dimension value; kept forever.
CREATE TABLE rollups (
    day TEXT NOT NULL,
    kind TEXT NOT NULL,
    version TEXT NOT NULL,
    dimension TEXT NOT NULL,
    value TEXT NOT NULL,
    clusters BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    PRIMARY KEY (day, kind, version, dimension, value)
){{without_rowid}};

-- Ingest health: requests, events and drops counted per day and reason.
CREATE TABLE ingest_counts (
    day TEXT NOT NULL,
    property TEXT NOT NULL,
    name TEXT NOT NULL,
    reason TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (day, property, name, reason)
){{without_rowid}};
