-- 000005: the due time of each task moves to a narrow table of its own, so that firing a task is a
-- HOT update of its reload_tasks row.
--
-- Every firing advances its task (next_execution_time, last_execution_time, version). While
-- next_execution_time was indexed on reload_tasks (reload_tasks_due), that update could never be HOT:
-- each firing wrote a new version of the wide row and a new entry into all six of reload_tasks'
-- indexes, and ADVANCE_TASKS was half of the database time of a firing (docs/benchmarks-postgres.md).
-- Now no reload_tasks index covers a column that a firing changes, and the due queue lives in
-- task_due: one narrow row per task, due_at = next_execution_time while the task is Enabled, else NULL.
--
-- task_due is kept by statement-level triggers with transition tables, so every writer of
-- reload_tasks (the API, the scheduler, the failure policy, events, bulk loads and COPY) keeps it
-- right without knowing about it, at one set-based statement per writing statement rather than a
-- trigger call per row. next_execution_time stays on reload_tasks (the API reads it there); the
-- scheduler selects due tasks through task_due and rechecks the task row itself (see DUE_TASKS).
CREATE TABLE task_due (
  task_id TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES reload_tasks (id) ON DELETE CASCADE,
  due_at  BIGINT
);
INSERT INTO task_due (task_id, due_at)
  SELECT id, CASE WHEN state = 'Enabled' THEN next_execution_time END FROM reload_tasks;
-- Ties (a herd: thousands due at 09:00:00) come out in task id order, so that a batch's probes into
-- reload_tasks_pkey, and its writes after them, walk the index in order instead of at random (a
-- batch of 1000 in TID order took 20 ms to join, in id order 1.2 ms).
CREATE INDEX task_due_by_time ON task_due (due_at, task_id) WHERE due_at IS NOT NULL;
DROP INDEX reload_tasks_due;

CREATE FUNCTION task_due_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO task_due (task_id, due_at)
    SELECT n.id, CASE WHEN n.state = 'Enabled' THEN n.next_execution_time END FROM new_rows n;
  RETURN NULL;
END $$;

-- The transition table has no statistics, and the planner would hash the whole of task_due to join a
-- batch of a thousand rows to it (84 ms for 1000 tasks out of 100,000); one index probe per changed
-- row is what this join needs, so the function plans with hash and merge joins off.
CREATE FUNCTION task_due_update() RETURNS trigger LANGUAGE plpgsql
  SET enable_hashjoin = off SET enable_mergejoin = off AS $$
BEGIN
  UPDATE task_due d SET due_at = CASE WHEN n.state = 'Enabled' THEN n.next_execution_time END
    FROM new_rows n
    WHERE d.task_id = n.id AND d.due_at IS DISTINCT FROM CASE WHEN n.state = 'Enabled' THEN n.next_execution_time END;
  RETURN NULL;
END $$;

CREATE TRIGGER reload_tasks_due_insert AFTER INSERT ON reload_tasks
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION task_due_insert();
CREATE TRIGGER reload_tasks_due_update AFTER UPDATE ON reload_tasks
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION task_due_update();

-- Room on each page for the new version of a row, which a HOT update needs (it applies to pages
-- written from now on; a VACUUM FULL or pg_repack applies it to the existing ones).
ALTER TABLE reload_tasks SET (fillfactor = 85);
