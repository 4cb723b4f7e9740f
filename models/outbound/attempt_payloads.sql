{{ config(description='The 360Learning v2 statistics record go1sync would send for each attempt of the statistics mapping now, with the learner it names and what the loader needs to order and batch it.') }}
{{ column('key', 'The Go1 enrollment id (marts.attempts_360.go1_enrollment_id).') }}
{{ column("l360_user_id", "The 360Learning user with the learner's email (trimmed, case-insensitive) in the latest user list read (raw.l360_users), an active one before an invited one; NULL when none, or only a deleted one.") }}
{{ column('users_listed', 'Whether a 360Learning user list has been read at all: before the first one, learners are named by mail.') }}
{{ column("payload", "The statistics record to send (outbound.attempt_records.record), with the learner as userIdentifier {type: internalId} when known (360Learning's mail matching is undocumented as to case), else {type: mail}.") }}
{{ column('payload_hash', 'outbound.attempt_records.payload_hash: the record with the learner by email, so a learner found by id later is the same attempt, not a change.') }}

WITH listing AS (
    SELECT max(_run_id) AS run_id FROM {{ source('raw', 'l360_users') }}
),

users AS (
    -- one user per email, ignoring case and blanks; an active user wins over an invited one
    SELECT lower(trim(mail)) AS mail_key,
           arg_min(user_id, (coalesce(record ->> '$.status', '') <> 'active', user_id)) AS user_id
    FROM {{ source('raw', 'l360_users') }}
    WHERE _run_id = (SELECT run_id FROM listing)
      AND nullif(trim(mail), '') IS NOT NULL AND user_id IS NOT NULL
      AND (record ->> '$.status') IS DISTINCT FROM 'deleted'
    GROUP BY 1
),

mapped AS (
    SELECT r.*, u.user_id AS l360_user_id
    FROM {{ ref('attempt_records') }} AS r
    LEFT JOIN users AS u ON u.mail_key = r.user_email
)

SELECT
    m.key,
    m.external_course_id,
    m.user_email,
    m.first_activity,
    m.attempt_state,
    m.l360_user_id,
    (SELECT run_id FROM listing) IS NOT NULL AS users_listed,
    -- built only for the rows read: counts and comparisons use the stored hash
    CASE WHEN m.l360_user_id IS NULL THEN m.record
         ELSE json_merge_patch(m.record, json_object(
             'userIdentifier', json_object('type', 'internalId', 'value', m.l360_user_id)))
    END AS payload,
    m.payload_hash
FROM mapped AS m
