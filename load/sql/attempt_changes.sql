-- Candidate attempts against the committed snapshot. An attempt is sent only once its course
-- exists in 360Learning (confirmed in meta.pushed_courses): statistics of a course 360Learning
-- does not know would fail. Attempts that left the mart are not sent: the API cannot delete.
-- An attempt pushed closed is final: by the attempt rule 360Learning never updates a completed
-- attempt, and a record sent again would update the learner's newer open attempt instead (or
-- start a duplicate). A later change in Go1 (a re-grade) is 'closed_in_360': not sent.
WITH candidate AS (
    SELECT *, md5(CAST(payload AS VARCHAR)) AS payload_hash FROM candidate_attempts
)
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
    c.external_course_id,
    c.user_email,
    c.first_activity,
    c.attempt_state,
    c.payload,
    c.payload_hash
FROM candidate AS c
LEFT JOIN meta.pushed_attempts AS p ON p.go1_enrollment_id = c.key
LEFT JOIN meta.pushed_courses AS pc ON pc.external_id = c.external_course_id
