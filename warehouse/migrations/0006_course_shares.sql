-- Courses shared with the integration's other groups, as 360Learning confirmed: compared with
-- the groups in the settings, so a group added there receives the courses and a group removed
-- has them taken back out of its catalog and library.
CREATE TABLE meta.course_shares (
    course_id  VARCHAR NOT NULL,
    group_id   VARCHAR NOT NULL,
    target     VARCHAR NOT NULL,   -- catalog | library
    run_id     BIGINT NOT NULL,
    shared_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (course_id, group_id, target)
);
