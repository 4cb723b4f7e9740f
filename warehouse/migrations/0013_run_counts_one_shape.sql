-- meta.runs.counts in one shape for every command, keyed by stage ({"extract": …,
-- "transform": …, "plan": …, "push": …, "reconcile": …}): runs recorded before, by a single
-- stage command, held that stage's counts at the top level.
UPDATE meta.runs SET counts = json_object('extract', counts)
WHERE command = 'extract' AND counts IS NOT NULL AND json_extract(counts, '$.extract') IS NULL;
UPDATE meta.runs SET counts = json_object('transform', counts)
WHERE command = 'transform' AND counts IS NOT NULL
  AND json_extract(counts, '$.transform') IS NULL;
UPDATE meta.runs SET counts = json_object('push', counts)
WHERE command = 'push' AND counts IS NOT NULL AND json_extract(counts, '$.push') IS NULL;
UPDATE meta.runs SET counts = json_object('reconcile', counts)
WHERE command = 'reconcile' AND counts IS NOT NULL
  AND json_extract(counts, '$.reconcile') IS NULL;
