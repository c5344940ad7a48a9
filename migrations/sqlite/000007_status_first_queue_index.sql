-- 000007: reloads_by_status leads with the status: (status, tenant_id, id) instead of (tenant_id,
-- status, id). The dispatcher finds the tenants with queued reloads by a skip scan; over an index
-- led by tenant_id that was one seek per tenant on record, history included (37 ms per claim with
-- 10,000 tenants, 10 of them with a queue), and over this one it is one seek per tenant with a
-- queue (0.02 ms). Every other reader of the index asks for one tenant and one status, which either
-- order answers the same; the entries written per reload are the same, so firing costs the same.
-- Building the index reads the whole reloads table once, at the first start of this version.
DROP INDEX reloads_by_status;
CREATE INDEX reloads_by_status ON reloads (status, tenant_id, id);
