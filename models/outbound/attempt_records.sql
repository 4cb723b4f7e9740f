{{ config(materialized='incremental', unique_key='key', key_kind='enrollment', description='The 360Learning v2 statistics record of each attempt of the statistics mapping, the learner named by mail, and its hash: built once per transform (a micro-run rebuilds the attempts it touched), so the plan and every count of the push compare stored hashes instead of building two million JSON records each time. outbound.attempt_payloads names the learner by their 360Learning id, as the latest user list says.') }}
{{ column('key', 'The Go1 enrollment id (marts.attempts_360.go1_enrollment_id).') }}
{{ column("record", "The statistics record (contract, table of differences), with the learner by mail: externalCourseId -> courseIdentifier {type: externalId}; the learner as userIdentifier {type: mail}; firstActivity/lastActivity -> firstActivityAt/lastActivityAt (YYYY-MM-DDTHH:MM:SS.mmmZ, always within 1970-2100: an enrollment with a date outside is a timestamp_out_of_range reject upstream); completedAt -> lastActivityAt with progress 100 (v2 has no completedAt); time spent 0 ms -> timeSpent 1 (the API's minimum); score omitted when empty; forceNew never sent (the attempt rule alone decides).") }}
{{ column('payload_hash', 'md5 of the record with the learner by email: a learner found by id later is the same attempt, not a change.') }}
{{ audit('unique', columns=['key']) }}
{% call audit_query('records_are_valid') %}
-- what ImportExternalStatisticsDTO requires of every record: its identifiers and dates,
-- progress within 0-100, timeSpent at least 1 (the API's minimum); the dates ISO 8601 UTC
-- date-times within seeds.timestamp_bounds (one year 10000 or "infinity" and 360Learning
-- refuses the whole batch). The learner's 360Learning id, sent instead of the mail when
-- known, is never NULL (outbound.attempt_payloads).
SELECT p.key, p.record FROM {{ this }} AS p, {{ ref('timestamp_bounds') }} AS b
WHERE p.record ->> '$.courseIdentifier.value' IS NULL
   OR p.record ->> '$.userIdentifier.value' IS NULL
   OR NOT CAST(p.record ->> '$.progress' AS DOUBLE) BETWEEN 0 AND 100
   OR NOT CAST(p.record ->> '$.timeSpent' AS DOUBLE) >= 1
   OR EXISTS (
       SELECT 1 FROM (VALUES (p.record ->> '$.firstActivityAt'),
                             (p.record ->> '$.lastActivityAt')) AS d(stamp)
       WHERE NOT coalesce(regexp_full_match(d.stamp, '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z')
                          AND CAST(d.stamp AS TIMESTAMPTZ) BETWEEN b.earliest AND b.latest, false))
{% endcall %}

WITH records AS (
    SELECT
        a.go1_enrollment_id AS key,
        a.external_course_id,
        a.user_email,
        a.first_activity,
        a.attempt_state,
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
        ) AS record
    FROM {{ ref('attempts_360') }} AS a
    {% if is_incremental() %}
    WHERE a.go1_enrollment_id IN {{ touched('enrollment') }}  -- a micro-run: those it remapped
    {% endif %}
)

SELECT *, md5(CAST(record AS VARCHAR)) AS payload_hash FROM records
