{{ config(description='Every attempt against the committed snapshot (meta.pushed_attempts): what the next push sends, or why it waits, read by plan and push alike. A view: it follows the confirmations as they land.') }}
{{ column("operation", "new, progress, close (sent when not held); unchanged (the same record as confirmed); closed_in_360 (an attempt pushed closed is final: by the attempt rule 360Learning never updates a completed attempt, and a record sent again would update the learner's newer open attempt instead, or start a duplicate; a later change in Go1, a re-grade, is not sent). Attempts that left the mapping are not sent: the API cannot delete.") }}
{{ column('course_in_360', 'Its course is confirmed in 360Learning (meta.pushed_courses).') }}
{{ column("held_reason", "Why an attempt that would be sent waits: operation_unsettled (a row of its course is in a bulk operation not settled yet, outbound.unsettled), course_not_in_360 (statistics of a course 360Learning does not know would fail), no_360_account (the user list has no user with the learner's email: sent once one appears, never before); NULL otherwise.") }}
{{ column('send', 'Is sent now: new, progress or close, and not held.') }}
{{ column('planned', 'Will be sent by the next push: sent now, or held only for a course that push upserts first (outbound.course_changes.upsert). What plan counts.') }}

WITH unsettled AS (
    SELECT DISTINCT external_course_id FROM {{ ref('unsettled') }}
),

compared AS (
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
        CASE WHEN c.external_course_id IN (SELECT external_course_id FROM unsettled)
                 THEN 'operation_unsettled'
             WHEN pc.external_id IS NULL THEN 'course_not_in_360'
             WHEN c.users_listed AND c.l360_user_id IS NULL THEN 'no_360_account'
        END AS held,
        c.external_course_id,
        c.user_email,
        c.first_activity,
        c.attempt_state,
        c.users_listed,
        c.payload,
        c.payload_hash
    FROM {{ ref('attempt_payloads') }} AS c
    LEFT JOIN {{ source('meta', 'pushed_attempts') }} AS p ON p.go1_enrollment_id = c.key
    LEFT JOIN {{ source('meta', 'pushed_courses') }} AS pc
        ON pc.external_id = c.external_course_id
),

sendable AS (  -- the operations that write something
    SELECT *, operation IN ('new', 'progress', 'close') AS sendable FROM compared
),

upserted AS (
    SELECT key FROM {{ ref('course_changes') }} WHERE upsert
)

SELECT
    key,
    operation,
    course_in_360,
    CASE WHEN sendable THEN held END AS held_reason,
    sendable AND held IS NULL AS send,
    sendable AND (held IS NULL OR (held = 'course_not_in_360'
                                   AND external_course_id IN (SELECT key FROM upserted)))
        AS planned,
    external_course_id,
    user_email,
    first_activity,
    attempt_state,
    users_listed,
    payload,
    payload_hash
FROM sendable
