{{ config(materialized='table', description='Every Go1 record that does not become a 360Learning course or attempt, with the reason: nothing disappears without a row that says why.') }}
{{ column('entity', 'learning_object, enrollment, or user_account (an account that could not be landed: unreadable_record).') }}
{{ column('go1_key', 'The lo_id, enrollment id or user account id (NULL when Go1 sent none).') }}
{{ column('reason', 'The rule that stopped the record; see the outcome column of marts.enrollment_mapping, reject_reason of staging.go1_learning_objects, unreadable_record: a record DuckDB cannot read or that is no JSON object, never landed (raw.go1_rejects; its reason and text in detail), and invalid_payload: a live course for which no valid 360Learning item can be made (outbound.course_payloads.payload_error).') }}
{{ column('detail', 'The offending value, when there is one (the status, the type, the timestamp text, the title or pass as Go1 sent it, the lo_id, the user account; for a duplicate learning object, the copy that goes on).') }}
{{ column('record', 'The Go1 JSON as it came (raw).') }}
{{ audit('not_null', columns=['entity', 'reason']) }}
{{ audit('accepted_values', column='reason', values=['missing_id', 'missing_title', 'invalid_title', 'unparseable_timestamp', 'timestamp_out_of_range', 'invalid_pass', 'type_not_synced', 'unknown_type', 'last_activity_before_first_activity', 'status_ignored', 'content_not_synced', 'learner_without_email', 'duplicate_key', 'invalid_payload', 'unreadable_record']) }}

-- The raw JSON is joined back by record hash for the rejected rows only: carrying every
-- record through the models would copy the whole raw layer at each step.
SELECT
    'learning_object' AS entity,
    lo.lo_id AS go1_key,
    lo.reject_reason AS reason,
    CASE lo.reject_reason
        WHEN 'duplicate_key' THEN lo.kept_copy
        WHEN 'invalid_title' THEN CAST(lo.title_json AS VARCHAR)
        WHEN 'unparseable_timestamp' THEN lo.updated_time_text
        WHEN 'timestamp_out_of_range' THEN lo.updated_time_text
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
        WHEN 'timestamp_out_of_range' THEN m.out_of_range_text
        WHEN 'invalid_pass' THEN CAST(m.pass_json AS VARCHAR)
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
JOIN {{ ref('go1_learning_objects') }} AS lo ON lo.lo_id = p.key AND lo.reject_reason IS NULL
JOIN {{ source('raw', 'go1_learning_objects') }} AS r
    ON r._record_hash = lo._record_hash AND r._run_id = lo.go1sync_run_id
WHERE p.payload_error IS NOT NULL AND NOT p.archived

UNION ALL

-- Records Go1 sent that could not be landed at all (raw.go1_rejects: DuckDB cannot read them,
-- or they are no JSON objects): why, and the text as it came, in detail (there is no JSON to
-- put in record). Each is shown while it is the latest word on its record: the catalog is
-- listed whole on every run, so its rejects are those of the latest listing, as are those
-- without a key; an enrollment or an account stays until a later run lands a version of it.
SELECT * FROM (
    SELECT
        CASE x.stream
            WHEN 'learning_objects' THEN 'learning_object'
            WHEN 'enrollments' THEN 'enrollment'
            ELSE 'user_account'
        END AS entity,
        x.go1_key,
        'unreadable_record' AS reason,
        concat(x.reason, ': ', x.raw_text) AS detail,
        x._run_id AS go1sync_run_id,
        CAST(NULL AS JSON) AS record
    FROM {{ source('raw', 'go1_rejects') }} AS x
    WHERE CASE
        WHEN x.stream = 'learning_objects' OR x.go1_key IS NULL THEN x._run_id = (
            SELECT max(s.run_id) FROM {{ source('meta', 'stream_runs') }} AS s
            WHERE s.stream = x.stream AND s.status = 'success')
        WHEN x.stream = 'enrollments' THEN NOT EXISTS (
            SELECT 1 FROM {{ source('raw', 'go1_enrollments') }} AS e
            WHERE e.enrollment_id = x.go1_key AND e._run_id > x._run_id)
        ELSE NOT EXISTS (
            SELECT 1 FROM {{ source('raw', 'go1_user_accounts') }} AS a
            WHERE a.user_account_id = x.go1_key AND a._run_id > x._run_id)
    END
    QUALIFY row_number() OVER (PARTITION BY x.stream, coalesce(x.go1_key, x.raw_text)
                               ORDER BY x._run_id DESC, x._extracted_at DESC) = 1
)
