-- The dashboard reads roll-ups by version and dimension over a period:
-- without this index, a year of one chart scanned every row of the year
-- (the primary key starts with the day).
CREATE INDEX rollups_by_dimension ON rollups (version, dimension, day);
