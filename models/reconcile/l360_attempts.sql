{{ config(materialized='table', description='The attempts 360Learning holds (latest read-back), with the learner email and the course external id, timestamps parsed to UTC.') }}
{{ column('completed', 'True when 360Learning has a completion date or progress 100 for the attempt.') }}

WITH latest AS (
    SELECT max(_run_id) AS run_id FROM {{ source('raw', 'l360_course_stats') }}
),
users AS (
    SELECT user_id, lower(trim(mail)) AS mail
    FROM {{ source('raw', 'l360_users') }}
    WHERE _run_id = (SELECT max(_run_id) FROM {{ source('raw', 'l360_users') }})
)
SELECT
    s.record ->> '$._id' AS attempt_id,
    s.course_id,
    p.external_id AS external_course_id,
    s.user_id,
    u.mail AS user_email,
    try_cast(s.record ->> '$.firstActivityAt' AS TIMESTAMPTZ) AS first_activity,
    try_cast(s.record ->> '$.lastActivityAt' AS TIMESTAMPTZ) AS last_activity,
    try_cast(s.record ->> '$.completedAt' AS TIMESTAMPTZ) AS completed_at,
    try_cast(s.record ->> '$.progress' AS DOUBLE) AS progress,
    try_cast(s.record ->> '$.completedAt' AS TIMESTAMPTZ) IS NOT NULL
        OR try_cast(s.record ->> '$.progress' AS DOUBLE) >= 100 AS completed
FROM {{ source('raw', 'l360_course_stats') }} AS s
LEFT JOIN {{ source('meta', 'pushed_courses') }} AS p ON p.course_id = s.course_id
LEFT JOIN users AS u ON u.user_id = s.user_id
WHERE s._run_id = (SELECT run_id FROM latest)
