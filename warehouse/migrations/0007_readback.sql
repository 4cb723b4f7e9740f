-- What 360Learning holds, read back for reconciliation (landed verbatim, like Go1's raw data).
CREATE TABLE raw.l360_integration_courses (   -- one read per pushed course
    _run_id       BIGINT NOT NULL,
    _extracted_at TIMESTAMPTZ NOT NULL,
    external_id   VARCHAR NOT NULL,
    found         BOOLEAN NOT NULL,             -- false: 360Learning does not know it
    record        JSON
);
CREATE TABLE raw.l360_courses (               -- every course of the platform (imports too)
    _run_id       BIGINT NOT NULL,
    _extracted_at TIMESTAMPTZ NOT NULL,
    course_id     VARCHAR,
    record        JSON NOT NULL
);
CREATE TABLE raw.l360_course_stats (          -- every attempt of the platform
    _run_id       BIGINT NOT NULL,
    _extracted_at TIMESTAMPTZ NOT NULL,
    course_id     VARCHAR,
    user_id       VARCHAR,
    record        JSON NOT NULL
);
CREATE TABLE raw.l360_users (
    _run_id       BIGINT NOT NULL,
    _extracted_at TIMESTAMPTZ NOT NULL,
    user_id       VARCHAR,
    mail          VARCHAR,
    record        JSON NOT NULL
);
