-- 000006: a manual reload's `weight` (1..10) and load-script `variables` (a JSON object of strings,
-- kept as text: it is only stored and handed to the executor), as POST /api/v1/reloads takes them.
-- Scheduled reloads have weight 1 and no variables. Adding a column with a constant default does
-- not rewrite the table.
ALTER TABLE reloads ADD COLUMN weight integer NOT NULL DEFAULT 1 CHECK (weight BETWEEN 1 AND 10);
ALTER TABLE reloads ADD COLUMN variables text;
