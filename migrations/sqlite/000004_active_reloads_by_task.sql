-- 000004: "is a reload of this task queued or running?" (the overlap policy when a task fires, and
-- the dispatcher's one reload per task at a time) only asks about active reloads. The full index
-- (resource_id, status) kept an entry for every reload on record, keyed by task, so each firing and
-- each status change wrote to a page of its own somewhere in a large index. A partial index holds only
-- the active ones: it stays as small as the queue, and its pages stay in the cache. Queries must
-- repeat its condition, `status IN ('QUEUED', 'RELOADING', 'CANCELING')`, for SQLite to use it.
DROP INDEX reloads_by_task_status;
CREATE INDEX reloads_active_by_task ON reloads (resource_id, status) WHERE status IN ('QUEUED', 'RELOADING', 'CANCELING');
