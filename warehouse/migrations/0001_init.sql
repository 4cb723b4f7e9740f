-- Schemas of the four stages, run records, per-stream outcomes and cursors, raw landing tables.
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS marts;

CREATE SEQUENCE meta.run_ids START 1;

CREATE TABLE meta.runs (
    run_id      BIGINT PRIMARY KEY,
    command     VARCHAR NOT NULL,
    options     JSON,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status      VARCHAR NOT NULL,          -- running | success | failed
    counts      JSON,
    error       VARCHAR,
    pid         INTEGER
);

CREATE TABLE meta.stream_runs (
    run_id          BIGINT NOT NULL,
    stream          VARCHAR NOT NULL,
    status          VARCHAR NOT NULL,      -- success | failed
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    requests        BIGINT,
    pages           BIGINT,
    records_read    BIGINT,
    records_landed  BIGINT,
    window_from     TIMESTAMPTZ,
    window_to       TIMESTAMPTZ,
    error           VARCHAR,
    PRIMARY KEY (run_id, stream)
);

CREATE TABLE meta.cursors (
    stream       VARCHAR PRIMARY KEY,
    cursor_value TIMESTAMPTZ NOT NULL,
    run_id       BIGINT NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

-- Raw tables keep each Go1 object verbatim (`record`), with the key pulled out for joins.
CREATE TABLE raw.go1_learning_objects (
    _run_id       BIGINT NOT NULL,
    _extracted_at TIMESTAMPTZ NOT NULL,
    _record_hash  VARCHAR NOT NULL,
    lo_id         VARCHAR,
    record        JSON NOT NULL
);

-- Every lo_id of every complete My Library listing, with the state[] it was listed under:
-- content that drops out of the latest listing has left My Library.
CREATE TABLE raw.go1_library_listings (
    _run_id      BIGINT NOT NULL,
    lo_id        VARCHAR,
    listed_state VARCHAR NOT NULL
);

CREATE TABLE raw.go1_enrollments (
    _run_id       BIGINT NOT NULL,
    _extracted_at TIMESTAMPTZ NOT NULL,
    _record_hash  VARCHAR NOT NULL,
    enrollment_id VARCHAR,
    record        JSON NOT NULL
);

CREATE TABLE raw.go1_user_accounts (
    _run_id         BIGINT NOT NULL,
    _extracted_at   TIMESTAMPTZ NOT NULL,
    _record_hash    VARCHAR NOT NULL,
    user_account_id VARCHAR,
    record          JSON NOT NULL
);

-- Latest version per key. A record without a key stays visible on its own (partition by hash).
CREATE VIEW raw.go1_learning_objects_latest AS
SELECT * FROM raw.go1_learning_objects
QUALIFY row_number() OVER (PARTITION BY coalesce(lo_id, _record_hash)
                           ORDER BY _run_id DESC, _extracted_at DESC) = 1;

CREATE VIEW raw.go1_enrollments_latest AS
SELECT * FROM raw.go1_enrollments
QUALIFY row_number() OVER (PARTITION BY coalesce(enrollment_id, _record_hash)
                           ORDER BY _run_id DESC, _extracted_at DESC) = 1;

CREATE VIEW raw.go1_user_accounts_latest AS
SELECT * FROM raw.go1_user_accounts
QUALIFY row_number() OVER (PARTITION BY coalesce(user_account_id, _record_hash)
                           ORDER BY _run_id DESC, _extracted_at DESC) = 1;
