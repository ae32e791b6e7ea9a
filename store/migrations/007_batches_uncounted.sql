-- The admin view's clusters not counted (Store.Uncounted) read the few
-- uncounted batches of a period: without this index, every batch kept.
CREATE INDEX batches_uncounted ON batches (received, property, client_id) WHERE counted = 0;
