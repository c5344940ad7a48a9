-- 000007: a fired occurrence's record is its scheduled reload, as on SQLite: one row per firing
-- instead of an `occurrences` row plus a reload row that carry the same task, time and tenant.
-- The occurrence's identity, (task, nominal time), becomes a unique index on the scheduled
-- reloads, so the database still refuses a second firing of an occurrence, whichever instance
-- tries. Misses and skips stay rows of `occurrences`. Every fired occurrence on record already has
-- exactly one scheduled reload (the occurrence row's key allowed no second), so the index builds.
-- Building it holds off writes to reloads while it reads the table; waiting for the lock behind a
-- long query would queue every write behind this migration, so it waits at most 10 s (the
-- migration then fails whole and the next start tries again).
SET LOCAL lock_timeout = '10s';
CREATE UNIQUE INDEX reloads_occurrence ON reloads (resource_id, scheduled_time) WHERE type = 'chronos';
