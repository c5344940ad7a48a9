-- 000001: reload tasks, and service-wide values (such as the secret that signs page cursors).
-- Times are epoch milliseconds; recurrence is the JSON array as the client sent it.
-- Ids compare in "C" collation: keyset pages rely on plain byte order of the hex ids.

CREATE TABLE reload_tasks (
  id                  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  tenant_id           TEXT    NOT NULL,
  user_id             TEXT    NOT NULL,
  app_id              TEXT    NOT NULL,
  partial             BOOLEAN NOT NULL,
  auto_reload         BOOLEAN NOT NULL,
  auto_reload_partial BOOLEAN NOT NULL,
  time_zone           TEXT    NOT NULL,
  recurrence          TEXT,
  start_date_time     TEXT,
  end_date_time       TEXT,
  state               TEXT    NOT NULL CHECK (state IN ('Enabled', 'Disabled', 'Completed')),
  disabled_code       TEXT,
  log                 TEXT,
  migrated            BOOLEAN NOT NULL DEFAULT false,
  last_execution_time BIGINT,
  next_execution_time BIGINT,
  created_at          BIGINT  NOT NULL,
  updated_at          BIGINT  NOT NULL,
  version             INTEGER NOT NULL
);

-- Keyset pagination: one index per list filter, each ending in id, so a page costs the same at any depth.
CREATE INDEX reload_tasks_by_tenant ON reload_tasks (tenant_id, id);
CREATE INDEX reload_tasks_by_owner ON reload_tasks (tenant_id, user_id, id);
CREATE INDEX reload_tasks_by_app ON reload_tasks (tenant_id, app_id, id);
CREATE INDEX reload_tasks_by_partial ON reload_tasks (tenant_id, partial, id);

CREATE TABLE service_meta (
  name  TEXT  NOT NULL PRIMARY KEY,
  value BYTEA NOT NULL
);
