-- Exact distinct clusters over any period, beyond the raw retention: each
-- cluster's days as runs of consecutive days on which it reported the same
-- profile (its combined facts of a day, facts.CombineDay). A period's
-- distinct clusters per value are read from the runs that overlap it.

-- Profiles, immutable: facts is a JSON array of [dimension, value] pairs,
-- hash its SHA-256 (hex).
CREATE TABLE profiles (
    id {{id}},
    hash TEXT NOT NULL UNIQUE,
    facts TEXT NOT NULL
);

-- A cluster reported profile on every day of [first_day, last_day] (days
-- since 1970-01-01, UTC); its runs never overlap.
CREATE TABLE cluster_runs (
    property TEXT NOT NULL,
    client_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    first_day INTEGER NOT NULL,
    last_day INTEGER NOT NULL,
    profile BIGINT NOT NULL,
    PRIMARY KEY (property, client_id, first_day)
){{without_rowid}};
-- A period's runs: those ending on or after its first day.
CREATE INDEX cluster_runs_by_end ON cluster_runs (last_day, first_day, kind, profile, property, client_id);

-- Counts every change of the roll-ups and runs (a roll-up adds one in its
-- transaction): what the dashboard computed from them stays right while
-- it is the same.
CREATE TABLE rollup_version (n BIGINT NOT NULL);
INSERT INTO rollup_version (n) VALUES (0);

-- The runs are made by the roll-ups: every day still holding facts is
-- rolled up again.
INSERT INTO dirty_marks (day) SELECT DISTINCT day FROM facts;
