-- Candidate attempts against the committed snapshot.
--   new, progress, close   sent (when not held)
--   unchanged              the same record as confirmed
--   closed_in_360          an attempt pushed closed is final: by the attempt rule 360Learning
--                          never updates a completed attempt, and a record sent again would
--                          update the learner's newer open attempt instead (or start a
--                          duplicate); a later change in Go1 (a re-grade) is not sent
-- held says why a row that would be sent waits instead:
--   course_not_in_360   its course is not confirmed in 360Learning (statistics of a course
--                       360Learning does not know would fail)
--   no_360_account      360Learning's user list has no user with the learner's email: it is
--                       sent once such a user appears, never before (it would only fail)
-- Attempts that left the mart are not sent: the API cannot delete.
WITH changes AS (
    SELECT
        c.key,
        CASE
            WHEN p.go1_enrollment_id IS NULL THEN 'new'
            WHEN p.payload_hash IS NOT DISTINCT FROM c.payload_hash THEN 'unchanged'
            WHEN p.attempt_state = 'closed' THEN 'closed_in_360'
            WHEN c.attempt_state = 'closed' THEN 'close'
            ELSE 'progress'
        END AS operation,
        pc.external_id IS NOT NULL AS course_in_360,
        CASE WHEN pc.external_id IS NULL THEN 'course_not_in_360'
             WHEN c.users_listed AND c.l360_user_id IS NULL THEN 'no_360_account'
        END AS held,
        c.external_course_id,
        c.user_email,
        c.first_activity,
        c.attempt_state,
        c.users_listed,
        c.payload,
        c.payload_hash
    FROM candidate_attempts AS c
    LEFT JOIN meta.pushed_attempts AS p ON p.go1_enrollment_id = c.key
    LEFT JOIN meta.pushed_courses AS pc ON pc.external_id = c.external_course_id
)
SELECT *, operation IN ('new', 'progress', 'close') AND held IS NULL AS send
FROM changes
