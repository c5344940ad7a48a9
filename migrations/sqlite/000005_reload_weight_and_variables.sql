-- 000005: a manual reload's `weight` (1..10) and load-script `variables` (a JSON object of strings),
-- as POST /api/v1/reloads takes them; they are passed on to the executor (Qlik Cloud's own queue
-- honours the weight). Scheduled reloads have weight 1 and no variables.
ALTER TABLE reloads ADD COLUMN weight INTEGER NOT NULL DEFAULT 1 CHECK (weight BETWEEN 1 AND 10);
ALTER TABLE reloads ADD COLUMN variables TEXT;
