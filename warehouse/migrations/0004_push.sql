-- What go1sync pushed to 360Learning: the committed snapshot (rows 360Learning confirmed), the
-- push ledger (every row sent, with its outcome) and the bulk operations submitted.

-- Committed snapshot of courses: a row lands here only when 360Learning reported success.
CREATE TABLE meta.pushed_courses (
    external_id   VARCHAR PRIMARY KEY,
    payload_hash  VARCHAR NOT NULL,        -- hash of the pushed columns (the payload)
    archived      BOOLEAN NOT NULL,
    course_id     VARCHAR,                 -- 360Learning's id, from the upsert's resourceId
    payload       JSON,
    run_id        BIGINT NOT NULL,
    confirmed_at  TIMESTAMPTZ NOT NULL
);

-- Committed snapshot of attempts, one per Go1 enrollment.
CREATE TABLE meta.pushed_attempts (
    go1_enrollment_id  VARCHAR PRIMARY KEY,
    payload_hash       VARCHAR NOT NULL,
    external_course_id VARCHAR NOT NULL,
    user_email         VARCHAR NOT NULL,
    attempt_state      VARCHAR NOT NULL,
    payload            JSON,
    run_id             BIGINT NOT NULL,
    confirmed_at       TIMESTAMPTZ NOT NULL
);

-- Every bulk operation submitted, so a run that died before reading its results can settle
-- it first thing next time.
CREATE TABLE meta.bulk_operations (
    operation_id  VARCHAR PRIMARY KEY,
    run_id        BIGINT NOT NULL,
    kind          VARCHAR NOT NULL,        -- course_upsert | course_archive | attempt | share_catalog | share_library
    items         INTEGER NOT NULL,
    status        VARCHAR NOT NULL,        -- submitted | completed | error
    submitted_at  TIMESTAMPTZ NOT NULL,
    settled_at    TIMESTAMPTZ
);

-- One row per row sent (or held back) in a run.
CREATE TABLE meta.push_ledger (
    run_id             BIGINT NOT NULL,
    kind               VARCHAR NOT NULL,   -- course_upsert | course_archive | attempt
    key                VARCHAR NOT NULL,   -- external_id or go1_enrollment_id
    operation          VARCHAR NOT NULL,   -- add | change | archive | new | progress | close | update
    payload_hash       VARCHAR,
    payload            JSON,
    bulk_operation_id  VARCHAR,
    status             VARCHAR NOT NULL,   -- pending | submitted | success | error | rejected
    error              VARCHAR,
    tries              INTEGER NOT NULL,   -- how many runs have sent this key with this payload
    updated_at         TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (run_id, kind, key)
);
