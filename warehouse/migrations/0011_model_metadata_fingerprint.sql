-- A model's version in two parts, as SQLMesh does. `fingerprint` is now the data fingerprint:
-- kind, normalised SQL, sources, seed content and the parents' data fingerprints; it alone says
-- whether a model changed since the last transform. `metadata_fingerprint` covers what the
-- model says about its data (description, column docs, audits), so a docs edit is recorded
-- without flagging the model and everything downstream. NULL for runs before this migration.
ALTER TABLE meta.model_runs ADD COLUMN metadata_fingerprint VARCHAR;
