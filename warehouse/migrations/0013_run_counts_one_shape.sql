-- meta.runs.counts in one shape for every command, keyed by stage ({"extract": …,
-- "transform": …, "plan": …, "push": …, "reconcile": …}): runs recorded before, by a single
-- stage command, held that stage's counts at the top level, under no key of their command's.
UPDATE meta.runs SET counts = json_object(command, counts)
WHERE command IN ('extract', 'transform', 'push', 'reconcile') AND counts IS NOT NULL
  AND json_extract(counts, '$.' || command) IS NULL;
