{{ config(materialized='incremental', unique_key='enrollment_id', key_kind='enrollment', description='Latest version of every Go1 enrollment, timestamps parsed to UTC, with the learner email joined in from the user account.') }}
{{ column('enrollment_id', 'Go1 enrollment id; a re-enrolment is a new id, the old enrollment stays here as it last was.') }}
{{ column('status', 'Go1 status, trimmed and lower-case: completed, in-progress, not-started, assigned, or any other value Go1 sends.') }}
{{ column('pass', 'Go1 pass when it is a JSON boolean: true or false; NULL when Go1 leaves it null or out, or sends anything else (see pass_json).') }}
{{ column('pass_json', 'Go1 pass as Go1 sent it (JSON), NULL when null or absent: a value here with a NULL pass is not a boolean ("yes", 1, an object) and the enrollment is rejected as invalid_pass.') }}
{{ column('created_at', 'Go1 created_time parsed to UTC; DuckDB also reads year 10000, infinity, year 0 and negative years, kept here and rejected by marts.enrollment_mapping as timestamp_out_of_range.') }}
{{ column('updated_at', 'Go1 updated_time parsed to UTC (out-of-range values as for created_at).') }}
{{ column('email', 'The learner email (Go1 user account user.email, trimmed, lower-case): 360Learning matches learners by email.') }}
{{ audit('unique', columns=['enrollment_id']) }}

WITH parsed AS (
    -- One JSON parse per record (see staging.go1_learning_objects); pass is read as JSON, so
    -- that a string "yes" or a number is told from a boolean.
    SELECT
        e.enrollment_id, e._run_id, e._record_hash,
        from_json(e.record, '{"lo_id": "VARCHAR", "user_account_id": "VARCHAR",
                              "status": "VARCHAR", "pass": "JSON",
                              "created_time": "VARCHAR", "updated_time": "VARCHAR"}') AS j
    {% if is_incremental() %}
    -- A micro-run: the latest version of the enrollments it landed, and of those of the
    -- learners whose account it landed. The rule of raw.go1_enrollments_latest (arg_max on
    -- _run_id, _extracted_at), applied to those keys only: through the view, every version
    -- of every enrollment is grouped first (0.3 s of a micro-run at 500,000).
    FROM {{ source('raw', 'go1_enrollments') }} AS e
    WHERE e.rowid IN (
        SELECT arg_max(rowid, (_run_id, _extracted_at))
        FROM {{ source('raw', 'go1_enrollments') }}
        WHERE enrollment_id IN {{ touched('enrollment') }}
           OR enrollment_id IN (SELECT enrollment_id FROM {{ this }}
                                WHERE user_account_id IN {{ touched('user_account') }})
        GROUP BY enrollment_id)
    {% else %}
    FROM {{ source('raw', 'go1_enrollments_latest') }} AS e
    {% endif %}
)

SELECT
    p.enrollment_id,
    nullif(trim(p.j.lo_id), '') AS lo_id,
    nullif(trim(p.j.user_account_id), '') AS user_account_id,
    nullif(lower(trim(p.j.status)), '') AS status,
    CASE WHEN json_type(p.j.pass) = 'BOOLEAN' THEN CAST(p.j.pass AS BOOLEAN) END AS pass,
    p.j.pass AS pass_json,
    p.j.created_time AS created_time_text,
    p.j.updated_time AS updated_time_text,
    try_cast(p.j.created_time AS TIMESTAMPTZ) AS created_at,
    try_cast(p.j.updated_time AS TIMESTAMPTZ) AS updated_at,
    nullif(lower(trim(u.record ->> '$.user.email')), '') AS email,
    u.user_account_id IS NOT NULL AS account_known,
    p._run_id AS go1sync_run_id,
    p._record_hash
FROM parsed AS p
LEFT JOIN {{ source('raw', 'go1_user_accounts_latest') }} AS u
    ON u.user_account_id = p.j.user_account_id
