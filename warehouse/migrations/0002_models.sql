-- The model runner: schemas for seeds and read-back tables, each run's model versions and audits.
CREATE SCHEMA IF NOT EXISTS seeds;
CREATE SCHEMA IF NOT EXISTS reconcile;

-- One row per model (or seed) built by a committed run: its version and the SQL that ran.
CREATE TABLE meta.model_runs (
    run_id       BIGINT NOT NULL,
    model        VARCHAR NOT NULL,
    kind         VARCHAR NOT NULL,     -- view | table | seed
    fingerprint  VARCHAR NOT NULL,     -- sha256 of normalised SQL, audits, parents' versions
    parents      JSON,                 -- inputs as schema.table: models, seeds, sources
    compiled_sql VARCHAR,              -- the statement executed
    rows         BIGINT,
    seconds      DOUBLE,
    PRIMARY KEY (run_id, model)
);

-- Every audit of a committed run; for a run stopped by a blocking audit, its failing audits.
CREATE TABLE meta.audit_results (
    run_id       BIGINT NOT NULL,
    model        VARCHAR NOT NULL,
    audit        VARCHAR NOT NULL,
    blocking     BOOLEAN NOT NULL,
    failing_rows BIGINT NOT NULL,
    sample       JSON,                 -- up to 3 offending rows
    PRIMARY KEY (run_id, model, audit)
);
