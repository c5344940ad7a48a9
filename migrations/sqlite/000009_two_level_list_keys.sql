-- 000009: the reloads' lists by app, by task (resource) and by owner (user) move out of the reloads
-- table's own indexes into two levels of key tables, as an LSM tree or PostgreSQL's GIN "pending list" keeps
-- them: a firing writes its keys into a small level (`*_new`), and the keys are moved into the large
-- level later, a run of neighbouring keys at a time (src/store/sqlite/key-settler.ts).
--
-- Why: reloads_by_app (tenant_id, app_id, id), reloads_by_resource (tenant_id, resource_id, id) and
-- reloads_by_user (tenant_id, user_id, id) took each firing's entry at a random place, or at one of
-- as many places as there are owners: with a retention's worth of reloads on record (two million:
-- 27,000 and 34,000 leaves by app and task) every firing wrote a page of its own into each, and a
-- herd of 100,000 took 13.6 s instead of 3.9 s on an empty table (docs/benchmarks.md). The small level
-- holds only the keys not moved yet: a batch of firings shares its few hundred pages. A move takes
-- the next run of keys in key order, which lands on neighbouring leaves of the large level.
--
-- Every reload's key is in exactly one level at any time (a move is one transaction): readers
-- read both and merge them by id. Triggers keep the keys with the reloads whatever inserts or
-- deletes them; a reload's tenant, owner, app and resource never change.
CREATE TABLE reload_keys_by_app (
  tenant_id TEXT NOT NULL,
  app_id    TEXT NOT NULL,
  id        TEXT NOT NULL,
  PRIMARY KEY (tenant_id, app_id, id)
) STRICT, WITHOUT ROWID;
CREATE TABLE reload_keys_by_app_new (
  tenant_id TEXT NOT NULL,
  app_id    TEXT NOT NULL,
  id        TEXT NOT NULL,
  PRIMARY KEY (tenant_id, app_id, id)
) STRICT, WITHOUT ROWID;
CREATE TABLE reload_keys_by_user (
  tenant_id TEXT NOT NULL,
  user_id   TEXT NOT NULL,
  id        TEXT NOT NULL,
  PRIMARY KEY (tenant_id, user_id, id)
) STRICT, WITHOUT ROWID;
CREATE TABLE reload_keys_by_user_new (
  tenant_id TEXT NOT NULL,
  user_id   TEXT NOT NULL,
  id        TEXT NOT NULL,
  PRIMARY KEY (tenant_id, user_id, id)
) STRICT, WITHOUT ROWID;
CREATE TABLE reload_keys_by_resource (
  tenant_id   TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  id          TEXT NOT NULL,
  PRIMARY KEY (tenant_id, resource_id, id)
) STRICT, WITHOUT ROWID;
CREATE TABLE reload_keys_by_resource_new (
  tenant_id   TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  id          TEXT NOT NULL,
  PRIMARY KEY (tenant_id, resource_id, id)
) STRICT, WITHOUT ROWID;

-- The reloads on record go straight into the large level, in key order.
INSERT INTO reload_keys_by_app (tenant_id, app_id, id)
  SELECT tenant_id, app_id, id FROM reloads ORDER BY tenant_id, app_id, id;
INSERT INTO reload_keys_by_user (tenant_id, user_id, id)
  SELECT tenant_id, user_id, id FROM reloads ORDER BY tenant_id, user_id, id;
INSERT INTO reload_keys_by_resource (tenant_id, resource_id, id)
  SELECT tenant_id, resource_id, id FROM reloads WHERE resource_id IS NOT NULL ORDER BY tenant_id, resource_id, id;
DROP INDEX reloads_by_app;
DROP INDEX reloads_by_user;
DROP INDEX reloads_by_resource;

CREATE TRIGGER reloads_keys_insert AFTER INSERT ON reloads BEGIN
  INSERT INTO reload_keys_by_app_new (tenant_id, app_id, id) VALUES (NEW.tenant_id, NEW.app_id, NEW.id);
  INSERT INTO reload_keys_by_user_new (tenant_id, user_id, id) VALUES (NEW.tenant_id, NEW.user_id, NEW.id);
  INSERT INTO reload_keys_by_resource_new (tenant_id, resource_id, id)
    SELECT NEW.tenant_id, NEW.resource_id, NEW.id WHERE NEW.resource_id IS NOT NULL;
END;

CREATE TRIGGER reloads_keys_delete AFTER DELETE ON reloads BEGIN
  DELETE FROM reload_keys_by_app WHERE tenant_id = OLD.tenant_id AND app_id = OLD.app_id AND id = OLD.id;
  DELETE FROM reload_keys_by_app_new WHERE tenant_id = OLD.tenant_id AND app_id = OLD.app_id AND id = OLD.id;
  DELETE FROM reload_keys_by_user WHERE tenant_id = OLD.tenant_id AND user_id = OLD.user_id AND id = OLD.id;
  DELETE FROM reload_keys_by_user_new WHERE tenant_id = OLD.tenant_id AND user_id = OLD.user_id AND id = OLD.id;
  DELETE FROM reload_keys_by_resource WHERE tenant_id = OLD.tenant_id AND resource_id = OLD.resource_id AND id = OLD.id;
  DELETE FROM reload_keys_by_resource_new WHERE tenant_id = OLD.tenant_id AND resource_id = OLD.resource_id AND id = OLD.id;
END;

-- A reload's keys are where they are because of its tenant, owner, app and resource: refuse a change.
CREATE TRIGGER reloads_keys_fixed BEFORE UPDATE OF tenant_id, user_id, app_id, resource_id ON reloads
  WHEN NEW.tenant_id IS NOT OLD.tenant_id OR NEW.user_id IS NOT OLD.user_id OR NEW.app_id IS NOT OLD.app_id
    OR NEW.resource_id IS NOT OLD.resource_id
BEGIN
  SELECT RAISE(ABORT, 'a reload''s tenant, owner, app and resource do not change');
END;
