-- 000006: a manual reload's `weight` (1..10) and load-script `variables` (a JSON object of strings,
-- kept as text: it is only stored and handed to the executor), as POST /api/v1/reloads takes them.
-- Scheduled reloads have weight 1 and no variables. A column with a constant default is added
-- without rewriting the table; the range check is NOT VALID so that adding it does not scan the
-- reloads on record (all of them have the default, 1), and it holds for every row written after.
-- Each ALTER takes an ACCESS EXCLUSIVE lock on reloads for an instant; waiting for it behind a long
-- query (a report, an old instance) would queue every read and write of reloads behind this
-- migration. So it waits at most 10 s: then the migration fails, nothing is applied, the instance
-- stops with the error, and its next start tries again.
SET LOCAL lock_timeout = '10s';
ALTER TABLE reloads ADD COLUMN weight integer NOT NULL DEFAULT 1;
ALTER TABLE reloads ADD CONSTRAINT reloads_weight_range CHECK (weight BETWEEN 1 AND 10) NOT VALID;
ALTER TABLE reloads ADD COLUMN variables text;
