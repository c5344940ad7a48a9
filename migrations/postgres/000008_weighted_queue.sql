-- 000008: the dispatcher looks at each tenant's queue on its own (a tenant's free slots go to its
-- heaviest queued reloads, then its oldest), instead of at the oldest 10,000 queued reloads of all
-- tenants, where one tenant's herd hid every other tenant's reloads and its own heavier ones until
-- it had drained. A tenant's oldest come from reloads_by_status (tenant_id, status, id); its
-- heaviest from this index, which holds only queued reloads of a weight above the default. Scheduled
-- reloads have weight 1, so firing writes nothing to it.
-- Building it holds off writes to reloads while it reads the table; waiting for the lock behind a
-- long query would queue every write behind this migration, so it waits at most 10 s (the
-- migration then fails whole and the next start tries again).
SET LOCAL lock_timeout = '10s';
CREATE INDEX reloads_weighted_queue ON reloads (tenant_id, weight DESC, id) WHERE status = 'QUEUED' AND weight > 1;
