{{ config(materialized='table', description='Every Go1 record that does not become a 360Learning course or attempt, with the reason: nothing disappears without a row that says why.') }}
{{ column('entity', 'learning_object or enrollment.') }}
{{ column('go1_key', 'The lo_id or enrollment id (NULL when Go1 sent none).') }}
{{ column('reason', 'The rule that stopped the record; see the outcome column of marts.enrollment_mapping, reject_reason of staging.go1_learning_objects, and invalid_payload: a live course for which no valid 360Learning item can be made (outbound.course_payloads.payload_error).') }}
{{ column('detail', 'The offending value, when there is one (the status, the type, the timestamp text, the lo_id, the user account).') }}
{{ column('record', 'The Go1 JSON as it came (raw).') }}
{{ audit('not_null', columns=['entity', 'reason']) }}
{{ audit('accepted_values', column='reason', values=['missing_id', 'missing_title', 'unparseable_timestamp', 'type_not_synced', 'unknown_type', 'last_activity_before_first_activity', 'status_ignored', 'content_not_synced', 'learner_without_email', 'duplicate_key', 'invalid_payload']) }}

-- The raw JSON is joined back by record hash for the rejected rows only: carrying every
-- record through the models would copy the whole raw layer at each step.
SELECT
    'learning_object' AS entity,
    lo.lo_id AS go1_key,
    lo.reject_reason AS reason,
    CASE lo.reject_reason
        WHEN 'unparseable_timestamp' THEN lo.updated_time_text
        WHEN 'type_not_synced' THEN lo.go1_type
        WHEN 'unknown_type' THEN lo.go1_type
    END AS detail,
    lo.go1sync_run_id,
    r.record
FROM {{ ref('go1_learning_objects') }} AS lo
JOIN {{ source('raw', 'go1_learning_objects') }} AS r
    ON r._record_hash = lo._record_hash AND r._run_id = lo.go1sync_run_id
WHERE lo.reject_reason IS NOT NULL

UNION ALL

SELECT
    'enrollment' AS entity,
    m.enrollment_id AS go1_key,
    m.outcome AS reason,
    CASE m.outcome
        WHEN 'unparseable_timestamp' THEN concat_ws(' / ', m.created_time_text, m.updated_time_text)
        WHEN 'last_activity_before_first_activity'
            THEN concat_ws(' / ', m.created_time_text, m.updated_time_text)
        WHEN 'status_ignored' THEN coalesce(m.status, '(none)')
        WHEN 'content_not_synced' THEN m.lo_id
        WHEN 'learner_without_email' THEN m.user_account_id
        WHEN 'duplicate_key' THEN concat_ws(' / ', m.lo_id, m.email, CAST(m.created_at AS VARCHAR))
    END AS detail,
    m.go1sync_run_id,
    r.record
FROM {{ ref('enrollment_mapping') }} AS m
JOIN {{ source('raw', 'go1_enrollments') }} AS r
    ON r._record_hash = m._record_hash AND r._run_id = m.go1sync_run_id
WHERE m.outcome <> 'attempt'

UNION ALL

SELECT
    'learning_object' AS entity,
    p.key AS go1_key,
    'invalid_payload' AS reason,
    p.payload_error AS detail,
    c.go1sync_run_id,
    r.record
FROM {{ ref('course_payloads') }} AS p
JOIN {{ ref('content_360') }} AS c ON c.external_id = p.key
JOIN {{ ref('go1_learning_objects') }} AS lo ON lo.lo_id = p.key
JOIN {{ source('raw', 'go1_learning_objects') }} AS r
    ON r._record_hash = lo._record_hash AND r._run_id = lo.go1sync_run_id
WHERE p.payload_error IS NOT NULL AND NOT p.archived
