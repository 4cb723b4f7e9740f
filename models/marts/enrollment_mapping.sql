{{ config(materialized='table', description='Every Go1 enrollment with its outcome: an attempt for 360Learning, or the reason it is not one. attempts_360 and rejects both read this, so each rule is written once.') }}
{{ column('outcome', 'attempt, or why not: missing_id, unparseable_timestamp, last_activity_before_first_activity, status_ignored (spec: enrollment records with a status other than completed or in progress are ignored), content_not_synced, learner_without_email, duplicate_key.') }}
{{ audit('unique', columns=['enrollment_id']) }}
{{ audit('not_null', columns=['outcome']) }}

WITH checked AS (
    SELECT
        e.*,
        c.external_id IS NOT NULL AS content_synced,
        CASE
            WHEN e.enrollment_id IS NULL OR e.lo_id IS NULL OR e.user_account_id IS NULL
                THEN 'missing_id'
            WHEN e.created_at IS NULL OR e.updated_at IS NULL THEN 'unparseable_timestamp'
            WHEN e.updated_at < e.created_at THEN 'last_activity_before_first_activity'
            WHEN e.status IS NULL OR e.status NOT IN ('completed', 'in-progress')
                THEN 'status_ignored'
            WHEN c.external_id IS NULL THEN 'content_not_synced'
            WHEN e.email IS NULL THEN 'learner_without_email'
        END AS reason
    FROM {{ ref('go1_enrollments') }} AS e
    LEFT JOIN {{ ref('content_360') }} AS c ON c.external_id = e.lo_id
),

ranked AS (
    -- 360Learning tells attempts of one learner on one course apart by their first activity:
    -- two enrollments that share all three would land in one attempt, so only the newest goes.
    SELECT
        *,
        CASE WHEN reason IS NULL THEN row_number() OVER (
            PARTITION BY reason IS NULL, lo_id, email, created_at
            ORDER BY updated_at DESC, enrollment_id DESC) END AS copy
    FROM checked
)

SELECT
    * EXCLUDE (reason, copy),
    coalesce(reason, CASE WHEN copy > 1 THEN 'duplicate_key' END, 'attempt') AS outcome
FROM ranked
