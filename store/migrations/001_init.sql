-- The first schema. Times are Unix microseconds (UTC); days are
-- 'YYYY-MM-DD' (UTC). {{id}}, {{serial}} and {{without_rowid}} are the
-- dialect's words for an auto-numbered primary key, one whose numbers are
-- never reused, and a table clustered on its key.

-- Stored batches (one accepted request each): who sent them, and the
-- dedup key of a request that may be retried (NULL: none). A batch goes
-- with its last raw event.
CREATE TABLE batches (
    id {{id}},
    received BIGINT NOT NULL,
    property TEXT NOT NULL,
    kind TEXT NOT NULL,
    client_id TEXT NOT NULL,
    report_key TEXT NOT NULL,
    country TEXT NOT NULL,
    counted INTEGER NOT NULL,
    events_left INTEGER NOT NULL,
    dedup_key TEXT UNIQUE
);
CREATE INDEX batches_received ON batches (received, id);

-- Raw events, one row per event (events_left counts those left in a batch),
-- kept for the retention period.
CREATE TABLE events (
    batch_id BIGINT NOT NULL,
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    params TEXT NOT NULL,
    PRIMARY KEY (batch_id, seq)
){{without_rowid}};

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

-- Days whose facts changed since they were last rolled up: a mark per
-- batch with facts; a roll-up deletes the marks whose facts it counted.
CREATE TABLE dirty_marks (
    id {{serial}},
    day TEXT NOT NULL
);
CREATE INDEX dirty_marks_day ON dirty_marks (day, id);

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
