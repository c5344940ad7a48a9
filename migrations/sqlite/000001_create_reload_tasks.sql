-- 000001: reload tasks, and service-wide values (such as the secret that signs page cursors).
-- Times are epoch milliseconds; booleans are 0/1; recurrence is the JSON array as the client sent it.

CREATE TABLE reload_tasks (
  id                  TEXT    NOT NULL PRIMARY KEY,
  tenant_id           TEXT    NOT NULL,
  user_id             TEXT    NOT NULL,
  app_id              TEXT    NOT NULL,
  partial             INTEGER NOT NULL CHECK (partial IN (0, 1)),
  auto_reload         INTEGER NOT NULL CHECK (auto_reload IN (0, 1)),
  auto_reload_partial INTEGER NOT NULL CHECK (auto_reload_partial IN (0, 1)),
  time_zone           TEXT    NOT NULL,
  recurrence          TEXT,
  start_date_time     TEXT,
  end_date_time       TEXT,
  state               TEXT    NOT NULL CHECK (state IN ('Enabled', 'Disabled', 'Completed')),
  disabled_code       TEXT,
  log                 TEXT,
  migrated            INTEGER NOT NULL DEFAULT 0 CHECK (migrated IN (0, 1)),
  last_execution_time INTEGER,
  next_execution_time INTEGER,
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL,
  version             INTEGER NOT NULL
) STRICT;

-- Keyset pagination: one index per list filter, each ending in id, so a page costs the same at any depth.
CREATE INDEX reload_tasks_by_tenant ON reload_tasks (tenant_id, id);
CREATE INDEX reload_tasks_by_owner ON reload_tasks (tenant_id, user_id, id);
CREATE INDEX reload_tasks_by_app ON reload_tasks (tenant_id, app_id, id);
CREATE INDEX reload_tasks_by_partial ON reload_tasks (tenant_id, partial, id);

CREATE TABLE service_meta (
  name  TEXT NOT NULL PRIMARY KEY,
  value BLOB NOT NULL
) STRICT;
