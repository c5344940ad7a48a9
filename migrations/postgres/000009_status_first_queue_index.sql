-- 000009: reloads_by_status leads with the status: (status, tenant_id, id) instead of (tenant_id,
-- status, id). The dispatcher finds the tenants with queued reloads by a skip scan (STARTABLE);
-- over an index led by tenant_id that was one seek per tenant on record, history included, and
-- over this one it is one seek per tenant with a queue. Every other reader of the index asks for
-- one tenant and one status, which either order answers the same; the entries written per reload
-- are the same, so firing costs the same.
-- Building the index reads the whole reloads table once and blocks writes to it meanwhile (inside
-- the migration's transaction it cannot be built CONCURRENTLY): budget a few seconds per million
-- reloads, during which the API's writes of reloads and the scheduler wait.
SET LOCAL lock_timeout = '10s';
DROP INDEX reloads_by_status;
CREATE INDEX reloads_by_status ON reloads (status, tenant_id, id);
