{{ config(description='Rows a push may have handed to 360Learning without knowing the outcome yet (meta.push_ledger): submitted to an operation still running, uncertain (the submit''s answer was lost) or pending (written, then the process stopped). Until a later push settles them, they are not sent again, and neither are the statistics of their courses: an old record sent twice merges into a newer open attempt.') }}
{{ column('kind', 'course_upsert, course_archive, course_restore or attempt.') }}
{{ column('key', 'The ledger key: the course external id, or the Go1 enrollment id.') }}
{{ column('external_course_id', 'The course the row is about (an attempt''s courseIdentifier).') }}
{{ column('status', 'submitted, uncertain or pending.') }}

SELECT
    l.kind,
    l.key,
    CASE WHEN l.kind = 'attempt' THEN l.payload ->> '$.courseIdentifier.value' ELSE l.key END
        AS external_course_id,
    l.status
FROM {{ source('meta', 'push_ledger') }} AS l
WHERE l.status IN ('submitted', 'uncertain', 'pending')
