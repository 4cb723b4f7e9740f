-- Statistics name a learner by 360Learning user id when the user is known (userIdentifier
-- internalId), so the email is kept beside the payload for the snapshot and the reports.
ALTER TABLE meta.push_ledger ADD COLUMN learner_email VARCHAR;

-- A course upsert's resourceId is documented only as "the unique ID of the impacted resource":
-- it is kept as it came, and course_id holds the course id once confirmed (api_readings).
ALTER TABLE meta.pushed_courses ADD COLUMN resource_id VARCHAR;
UPDATE meta.pushed_courses SET resource_id = course_id;

-- Learners whose attempts wait because 360Learning lists no user with their email, as the last
-- statistics push found them: `status` names them; they are sent once such a user exists.
CREATE TABLE meta.learners_without_account (
    user_email      VARCHAR PRIMARY KEY,
    attempts        INTEGER NOT NULL,
    first_seen_run  BIGINT NOT NULL,
    first_seen_at   TIMESTAMPTZ NOT NULL,
    last_seen_run   BIGINT NOT NULL
);
