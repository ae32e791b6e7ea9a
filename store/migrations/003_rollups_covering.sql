-- The dashboard adds up a period's roll-ups of a dimension (clusters and
-- amounts per kind and value): with those columns in the index, the sums
-- read the index alone, not a table row for each day and value.
CREATE INDEX rollups_by_dimension_covering ON rollups (version, dimension, day, kind, value, clusters, amount);
DROP INDEX rollups_by_dimension;
