-- 000008: "is a reload of this task queued or running?" is answered from reloads_by_resource
-- (tenant_id, resource_id, id), newest first, stopping at the first reload of the task that ever
-- started (hasActiveReload in src/store/sqlite/scheduling.ts): a reload starts only when none older
-- of its task is active, so every reload older than a started one has ended. The partial index of
-- active reloads keyed by task is then written for nothing: every firing and every status change
-- wrote an entry to a page of its own in it, the dearest of a firing's index entries.
DROP INDEX reloads_active_by_task;
