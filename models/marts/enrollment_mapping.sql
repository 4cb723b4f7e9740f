{{ config(materialized='incremental', unique_key='enrollment_id', key_kind='enrollment', description='Every Go1 enrollment with its outcome: an attempt for 360Learning, or the reason it is not one. attempts_360 and rejects both read this, so each rule is written once.') }}
{{ column('outcome', 'attempt, or why not: missing_id, unparseable_timestamp, timestamp_out_of_range (created_time or updated_time outside seeds.timestamp_bounds, 1970-01-01 to 2100-12-31 UTC: 360Learning refuses the whole batch over one invalid date-time), last_activity_before_first_activity, status_ignored (spec: enrollment records with a status other than completed or in progress are ignored), content_not_synced, invalid_pass (pass is not a JSON boolean, nor null or absent), learner_without_email, duplicate_key.') }}
{{ column('out_of_range_text', 'For timestamp_out_of_range: the Go1 text of each timestamp outside the bounds (created_time / updated_time).') }}
{{ audit('unique', columns=['enrollment_id']) }}
{{ audit('not_null', columns=['outcome']) }}

WITH
{% if is_incremental() %}
-- A micro-run rebuilds the enrollments it touched, those of the objects it touched (now
-- synced or not), and every enrollment that shares a learner and an object with a touched
-- one, as it is now and as it was: the duplicate_key ranking below is over those groups.
touched_groups AS (
    SELECT lo_id, email FROM {{ ref('go1_enrollments') }}
    WHERE enrollment_id IN {{ touched('enrollment') }}
    UNION
    SELECT lo_id, email FROM {{ this }} WHERE enrollment_id IN {{ touched('enrollment') }}
),

rebuilt AS (
    SELECT enrollment_id FROM {{ ref('go1_enrollments') }}
    WHERE enrollment_id IN {{ touched('enrollment') }}
       OR lo_id IN {{ touched('learning_object') }}
    UNION
    SELECT e.enrollment_id FROM {{ ref('go1_enrollments') }} AS e
    JOIN touched_groups AS g ON g.lo_id = e.lo_id AND g.email = e.email
),
{% endif %}

checked AS (
    SELECT
        e.*,
        c.external_id IS NOT NULL AS content_synced,
        nullif(concat_ws(' / ',
            CASE WHEN NOT e.created_at BETWEEN b.earliest AND b.latest THEN e.created_time_text END,
            CASE WHEN NOT e.updated_at BETWEEN b.earliest AND b.latest THEN e.updated_time_text END
        ), '') AS out_of_range_text
    FROM {{ ref('go1_enrollments') }} AS e
    CROSS JOIN {{ ref('timestamp_bounds') }} AS b
    LEFT JOIN {{ ref('content_360') }} AS c ON c.external_id = e.lo_id
    {% if is_incremental() %}
    WHERE e.enrollment_id IN (SELECT enrollment_id FROM rebuilt)
    {% endif %}
),

reasoned AS (
    SELECT
        *,
        CASE
            WHEN enrollment_id IS NULL OR lo_id IS NULL OR user_account_id IS NULL
                THEN 'missing_id'
            WHEN created_at IS NULL OR updated_at IS NULL THEN 'unparseable_timestamp'
            WHEN out_of_range_text IS NOT NULL THEN 'timestamp_out_of_range'
            WHEN updated_at < created_at THEN 'last_activity_before_first_activity'
            WHEN status IS NULL OR status NOT IN ('completed', 'in-progress')
                THEN 'status_ignored'
            WHEN NOT content_synced THEN 'content_not_synced'
            -- Go1 sent a pass that is not a boolean: taking it as unknown would send no result
            WHEN pass IS NULL AND pass_json IS NOT NULL THEN 'invalid_pass'
            WHEN email IS NULL THEN 'learner_without_email'
        END AS reason
    FROM checked
),

ranked AS (
    -- 360Learning tells attempts of one learner on one course apart by their first activity:
    -- two enrollments that share all three would land in one attempt, so only the newest goes.
    SELECT
        *,
        CASE WHEN reason IS NULL THEN row_number() OVER (
            PARTITION BY reason IS NULL, lo_id, email, created_at
            ORDER BY updated_at DESC, enrollment_id DESC) END AS copy
    FROM reasoned
)

SELECT
    * EXCLUDE (reason, copy),
    coalesce(reason, CASE WHEN copy > 1 THEN 'duplicate_key' END, 'attempt') AS outcome
FROM ranked
