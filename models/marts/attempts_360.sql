{{ config(materialized='incremental', unique_key='go1_enrollment_id', key_kind='enrollment', description='The statistics mapping: one 360Learning attempt per Go1 enrollment of a synced learning object whose status is completed or in progress.') }}
{{ column('external_course_id', 'Spec, learner statistics mapping: lo_id -> externalCourseId.') }}
{{ column('user_email', 'The learner, matched in 360Learning by email (the same email on both sides).') }}
{{ column('first_activity', 'Spec: created_time -> firstActivity (UTC).') }}
{{ column('last_activity', 'Spec: updated_time -> lastActivity (UTC).') }}
{{ column('completed_at', 'Spec: completedAt, automatically calculated when status = completed: the time of the last update (updated_time); NULL otherwise.') }}
{{ column('progress', 'Spec: 100 progress if the status is completed; 50 if the status is in-progress (the learner started but did not finish); 0 if anything else.') }}
{{ column('result', 'Spec: if pass is true, the result is success; if pass is false and the status is completed, the result is failed; else NULL.') }}
{{ column('score', 'Spec: score undefined, there is no specific data available in Go1: always NULL.') }}
{{ column('time_spent_ms', 'Spec: time spent, arbitrary value, set to 0 milliseconds on all attempts.') }}
{{ column('attempt_state', 'Spec: a course started on Go1 and not finished opens an attempt (open); it is closed once the learner finished the course (closed, status completed).') }}
{{ column('go1_enrollment_id', 'The Go1 enrollment this attempt comes from; a re-enrolment is a new enrollment, hence a second attempt.') }}
{{ audit('unique', columns=['go1_enrollment_id']) }}
{{ audit('not_null', columns=['external_course_id', 'user_email', 'first_activity', 'last_activity', 'progress', 'time_spent_ms', 'attempt_state']) }}
{{ audit('accepted_values', column='progress', values=[50, 100]) }}
{{ audit('accepted_values', column='attempt_state', values=['open', 'closed']) }}
{{ audit('relationships', column='external_course_id', to='content_360', field='external_id') }}
{% call audit_query('completion_iff_closed') %}
SELECT go1_enrollment_id, attempt_state, completed_at, progress FROM {{ this }}
WHERE (attempt_state = 'closed') <> (completed_at IS NOT NULL)
   OR (attempt_state = 'closed') <> (progress = 100)
{% endcall %}
{% call audit_query('result_only_success_or_failed') %}
SELECT go1_enrollment_id, result FROM {{ this }}
WHERE result IS NOT NULL AND result NOT IN ('success', 'failed')
{% endcall %}

SELECT
    m.lo_id AS external_course_id,
    m.email AS user_email,
    m.created_at AS first_activity,
    m.updated_at AS last_activity,
    CASE WHEN m.status = 'completed' THEN m.updated_at END AS completed_at,
    CASE m.status WHEN 'completed' THEN 100 WHEN 'in-progress' THEN 50 ELSE 0 END AS progress,
    CASE
        WHEN m.pass THEN 'success'
        WHEN NOT m.pass AND m.status = 'completed' THEN 'failed'
    END AS result,
    CAST(NULL AS DOUBLE) AS score,
    0 AS time_spent_ms,
    CASE WHEN m.status = 'completed' THEN 'closed' ELSE 'open' END AS attempt_state,
    m.enrollment_id AS go1_enrollment_id,
    m.user_account_id AS go1_user_account_id,
    m.status AS go1_status,
    m.pass AS go1_pass,
    m.go1sync_run_id
FROM {{ ref('enrollment_mapping') }} AS m
WHERE m.outcome = 'attempt'
{% if is_incremental() %}
    AND m.enrollment_id IN {{ touched('enrollment') }}  -- a micro-run: those it remapped
{% endif %}
