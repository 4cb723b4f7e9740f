{{ config(description='The 360Learning v2 statistics record go1sync would send for each attempt of the statistics mapping now, with the learner it names and what the loader needs to order and batch it.') }}
{{ column('key', 'The Go1 enrollment id (marts.attempts_360.go1_enrollment_id).') }}
{{ column("l360_user_id", "The 360Learning user with the learner's email (trimmed, case-insensitive) in the latest user list read (raw.l360_users), an active one before an invited one; NULL when none, or only a deleted one.") }}
{{ column('users_listed', 'Whether a 360Learning user list has been read at all: before the first one, learners are named by mail.') }}
{{ column("payload", "The statistics record (contract, table of differences): externalCourseId -> courseIdentifier {type: externalId}; the learner as userIdentifier {type: internalId} when known (360Learning's mail matching is undocumented as to case), else {type: mail}; firstActivity/lastActivity -> firstActivityAt/lastActivityAt (YYYY-MM-DDTHH:MM:SS.mmmZ, always within 1970-2100: an enrollment with a date outside is a timestamp_out_of_range reject upstream); completedAt -> lastActivityAt with progress 100 (v2 has no completedAt); time spent 0 ms -> timeSpent 1 (the API's minimum); score omitted when empty; forceNew never sent (the attempt rule alone decides).") }}
{{ column('payload_hash', 'md5 of the record with the learner by email: a learner found by id later is the same attempt, not a change.') }}
{% call audit_query('records_are_valid') %}
-- what ImportExternalStatisticsDTO requires of every record: its identifiers and dates,
-- progress within 0-100, timeSpent at least 1 (the API's minimum); the dates ISO 8601 UTC
-- date-times within seeds.timestamp_bounds (one year 10000 or "infinity" and 360Learning
-- refuses the whole batch)
SELECT p.key, p.payload FROM {{ this }} AS p, {{ ref('timestamp_bounds') }} AS b
WHERE p.payload ->> '$.courseIdentifier.value' IS NULL
   OR p.payload ->> '$.userIdentifier.value' IS NULL
   OR NOT CAST(p.payload ->> '$.progress' AS DOUBLE) BETWEEN 0 AND 100
   OR NOT CAST(p.payload ->> '$.timeSpent' AS DOUBLE) >= 1
   OR EXISTS (
       SELECT 1 FROM (VALUES (p.payload ->> '$.firstActivityAt'),
                             (p.payload ->> '$.lastActivityAt')) AS d(stamp)
       WHERE NOT coalesce(regexp_full_match(d.stamp, '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z')
                          AND CAST(d.stamp AS TIMESTAMPTZ) BETWEEN b.earliest AND b.latest, false))
{% endcall %}

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
    SELECT
        a.*,
        u.user_id AS l360_user_id,
        json_merge_patch(
            json_object(
                'courseIdentifier',
                json_object('type', 'externalId', 'value', a.external_course_id),
                'userIdentifier', json_object('type', 'mail', 'value', a.user_email),
                'progress', a.progress,
                'timeSpent', greatest(a.time_spent_ms, 1),
                'firstActivityAt', strftime(a.first_activity, '%Y-%m-%dT%H:%M:%S.%gZ'),
                'lastActivityAt', strftime(coalesce(a.completed_at, a.last_activity),
                                           '%Y-%m-%dT%H:%M:%S.%gZ')
            ),
            json_object('result', a.result, 'score', a.score)
        ) AS by_mail
    FROM {{ ref('attempts_360') }} AS a
    LEFT JOIN users AS u ON u.mail_key = a.user_email
)

SELECT
    m.go1_enrollment_id AS key,
    m.external_course_id,
    m.user_email,
    m.first_activity,
    m.attempt_state,
    m.l360_user_id,
    (SELECT run_id FROM listing) IS NOT NULL AS users_listed,
    CASE WHEN m.l360_user_id IS NULL THEN m.by_mail
         ELSE json_merge_patch(m.by_mail, json_object(
             'userIdentifier', json_object('type', 'internalId', 'value', m.l360_user_id)))
    END AS payload,
    md5(CAST(m.by_mail AS VARCHAR)) AS payload_hash
FROM mapped AS m
