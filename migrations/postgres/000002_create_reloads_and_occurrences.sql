-- 000002: the scheduler's records. An occurrence is identified by (task_id, nominal_time) and recorded
-- once, whatever happened to it (fired, missed, skipped); a reload is one run of an app.

ALTER TABLE reload_tasks ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reload_tasks ADD COLUMN missed_count BIGINT NOT NULL DEFAULT 0;

-- The scheduler's one question: which enabled tasks are due. Partial, so disabled tasks cost nothing.
CREATE INDEX reload_tasks_due ON reload_tasks (next_execution_time) WHERE state = 'Enabled' AND next_execution_time IS NOT NULL;
CREATE INDEX reload_tasks_by_app_only ON reload_tasks (tenant_id, app_id);

CREATE TABLE occurrences (
  task_id      TEXT COLLATE "C" NOT NULL,
  nominal_time BIGINT NOT NULL,
  tenant_id    TEXT   NOT NULL,
  outcome      TEXT   NOT NULL CHECK (outcome IN ('fired', 'missed', 'skipped')),
  reload_id    TEXT COLLATE "C",
  recorded_at  BIGINT NOT NULL,
  PRIMARY KEY (task_id, nominal_time)
);
CREATE INDEX occurrences_by_age ON occurrences (recorded_at);

CREATE TABLE reloads (
  id             TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  tenant_id      TEXT    NOT NULL,
  user_id        TEXT    NOT NULL,
  app_id         TEXT    NOT NULL,
  partial        BOOLEAN NOT NULL,
  type           TEXT    NOT NULL,
  resource_type  TEXT,
  resource_id    TEXT COLLATE "C",
  scheduled_time BIGINT,
  status         TEXT    NOT NULL CHECK (status IN ('QUEUED', 'RELOADING', 'CANCELING', 'SUCCEEDED', 'FAILED', 'CANCELED', 'EXCEEDED_LIMIT')),
  creation_time  BIGINT  NOT NULL,
  start_time     BIGINT,
  end_time       BIGINT,
  log            TEXT,
  error_code     TEXT,
  error_message  TEXT,
  executor       TEXT,
  external_id    TEXT,
  lease_owner    TEXT,
  lease_until    BIGINT,
  attempts       INTEGER NOT NULL DEFAULT 0
);

-- Lists: a tenant's reloads newest first, by user, app, task, status.
CREATE INDEX reloads_by_tenant ON reloads (tenant_id, id);
CREATE INDEX reloads_by_user ON reloads (tenant_id, user_id, id);
CREATE INDEX reloads_by_app ON reloads (tenant_id, app_id, id);
CREATE INDEX reloads_by_resource ON reloads (tenant_id, resource_id, id);
CREATE INDEX reloads_by_status ON reloads (tenant_id, status, id);
-- The dispatcher's queue (oldest first), the reloads in flight, and "is a reload of this task active?".
CREATE INDEX reloads_by_status_id ON reloads (status, id);
CREATE INDEX reloads_by_task_status ON reloads (resource_id, status);
-- Retention prunes by age.
CREATE INDEX reloads_by_end ON reloads (end_time) WHERE end_time IS NOT NULL;
