{{ config(materialized='table', description='Every difference between Go1 (the marts), what go1sync pushed (the committed snapshot and the ledger) and what 360Learning holds (the latest read-back), one row each, by category.') }}
{{ column('category', 'The kind of difference; the seed reconcile_categories explains each (its likely cause and fix), says whether it needs action or is excluded by design, and ranks it by severity.') }}
{{ column('row_key', 'What the difference is about, within its category (the course, the enrollment, the course field, the learner): the same difference found by two reconcile runs has the same key, so a report can tell new ones from old ones.') }}
{{ column('course_title', 'The Go1 title of the course the row is about, when Go1 has one (content_360, else the learning object).') }}
{{ column('user_email', 'The learner, on every attempt row.') }}
{{ audit('not_null', columns=['category', 'row_key']) }}
{{ audit('relationships', column='category', to='reconcile_categories', field='category') }}
{% call audit_query('category_kind_is_known') %}
SELECT category, kind FROM {{ ref('reconcile_categories') }}
WHERE kind IS NULL OR kind NOT IN ('needs_action', 'excluded')
{% endcall %}

WITH read_back AS (  -- the latest read-back: its course listing, and the courses read one by one
    SELECT greatest((SELECT max(_run_id) FROM {{ source('raw', 'l360_courses') }}),
                    (SELECT max(_run_id) FROM {{ source('raw', 'l360_integration_courses') }}))
           AS run_id
),
integration_courses AS (  -- read one by one: a sample, and every course that may differ
    SELECT * FROM {{ source('raw', 'l360_integration_courses') }}
    WHERE _run_id = (SELECT run_id FROM read_back)
),
platform_courses AS (  -- listed: every external course of the platform
    SELECT course_id, record ->> '$.name' AS name, record ->> '$.status' AS status,
           record ->> '$.description' AS description, record ->> '$.duration' AS duration,
           record ->> '$.defaultLang' AS default_lang
    FROM {{ source('raw', 'l360_courses') }}
    WHERE _run_id = (SELECT run_id FROM read_back)
),
users AS (  -- active users; no NULL mail: one would make every NOT IN below false
    SELECT DISTINCT lower(trim(mail)) AS mail FROM {{ source('raw', 'l360_users') }}
    WHERE _run_id = (SELECT max(_run_id) FROM {{ source('raw', 'l360_users') }})
      AND mail IS NOT NULL AND (record ->> '$.status') IS DISTINCT FROM 'deleted'
),
pushed AS (
    SELECT pa.*, pc.course_id,
           try_cast(pa.payload ->> '$.firstActivityAt' AS TIMESTAMPTZ) AS first_activity,
           try_cast(pa.payload ->> '$.progress' AS DOUBLE) AS progress
    FROM {{ source('meta', 'pushed_attempts') }} AS pa
    JOIN {{ source('meta', 'pushed_courses') }} AS pc ON pc.external_id = pa.external_course_id
),
matched AS (
    -- each pushed attempt with the 360Learning attempt that has the same first activity
    SELECT p.*, a.attempt_id, a.progress AS l360_progress, a.completed AS l360_completed,
           a.completed_at AS l360_completed_at
    FROM pushed AS p
    LEFT JOIN {{ ref('l360_attempts') }} AS a
        ON a.course_id = p.course_id AND a.user_email = p.user_email
       AND a.first_activity = p.first_activity
),
has_read_back AS (SELECT (SELECT run_id FROM read_back) IS NOT NULL AS yes),
titles AS (  -- a title for content outside the mapping too (an unsynced type, say)
    SELECT lo_id, any_value(title) AS title FROM {{ ref('go1_learning_objects') }}
    WHERE lo_id IS NOT NULL AND title IS NOT NULL GROUP BY lo_id
),
found AS (
-- Courses ------------------------------------------------------------------------------------
SELECT 'course_missing' AS category, c.external_id AS row_key, c.external_id AS go1_key,
       c.external_id AS external_course_id,
       NULL AS user_email, c.name AS go1_value, NULL AS l360_value,
       CASE WHEN ic.external_id IS NULL THEN 'never confirmed by 360Learning (see the push ledger)'
            ELSE 'pushed, but 360Learning does not know it' END AS detail
FROM {{ ref('content_360') }} AS c
LEFT JOIN {{ source('meta', 'pushed_courses') }} AS pc ON pc.external_id = c.external_id
LEFT JOIN integration_courses AS ic ON ic.external_id = c.external_id
WHERE NOT c.archived AND (pc.external_id IS NULL OR NOT coalesce(ic.found, true))

UNION ALL
SELECT 'archived_in_360_published_in_go1', c.external_id, c.external_id, c.external_id, NULL,
       'published',
       pl.status, 'archived in 360Learning while published in Go1 My Library'
FROM {{ ref('content_360') }} AS c
JOIN {{ source('meta', 'pushed_courses') }} AS pc ON pc.external_id = c.external_id
JOIN platform_courses AS pl ON pl.course_id = pc.course_id
WHERE NOT c.archived AND pl.status = 'archived'

UNION ALL
SELECT 'live_in_360_archived_in_go1', c.external_id, c.external_id, c.external_id, NULL,
       coalesce(c.archived_reason, 'archived'), pl.status,
       'live in 360Learning while archived in Go1'
FROM {{ ref('content_360') }} AS c
JOIN {{ source('meta', 'pushed_courses') }} AS pc ON pc.external_id = c.external_id
JOIN platform_courses AS pl ON pl.course_id = pc.course_id
WHERE c.archived AND pl.status <> 'archived'

UNION ALL
SELECT 'course_fields_differ', pc.external_id || ' ' || f.field, pc.external_id,
       pc.external_id, NULL,
       f.field || ' = ' || coalesce(f.pushed, '(none)'),
       f.field || ' = ' || coalesce(f.held, '(none)'),
       '360Learning holds another ' || f.field || ' than go1sync pushed'
FROM {{ source('meta', 'pushed_courses') }} AS pc
LEFT JOIN integration_courses AS ic ON ic.external_id = pc.external_id AND ic.found
LEFT JOIN platform_courses AS pl ON pl.course_id = pc.course_id
CROSS JOIN LATERAL (
    -- the listed fields for every course; the launch URL where the course was read one by one
    SELECT * FROM (VALUES
        ('name', pc.payload ->> '$.name', coalesce(ic.record ->> '$.name', pl.name),
         ic.external_id IS NOT NULL OR pl.course_id IS NOT NULL),
        ('launchUrl', pc.payload ->> '$.launchUrl', ic.record ->> '$.launchUrl',
         ic.external_id IS NOT NULL),
        ('defaultLang', pc.payload ->> '$.defaultLang',
         coalesce(ic.record ->> '$.defaultLang', pl.default_lang),
         ic.external_id IS NOT NULL OR pl.course_id IS NOT NULL),
        ('duration', pc.payload ->> '$.duration', coalesce(ic.record ->> '$.duration', pl.duration),
         ic.external_id IS NOT NULL OR pl.course_id IS NOT NULL),
        ('description', pc.payload ->> '$.description',
         coalesce(ic.record ->> '$.description', pl.description),
         ic.external_id IS NOT NULL OR pl.course_id IS NOT NULL)
    ) AS v(field, pushed, held, known)
) AS f
WHERE NOT pc.archived AND f.known AND f.pushed IS DISTINCT FROM f.held

-- Attempts -----------------------------------------------------------------------------------
UNION ALL
SELECT 'attempt_missing', m.go1_enrollment_id, m.go1_enrollment_id, m.external_course_id,
       m.user_email,
       'progress ' || CAST(m.progress AS VARCHAR), NULL,
       'pushed and confirmed, but 360Learning has no attempt starting at that time'
FROM matched AS m, has_read_back
WHERE has_read_back.yes AND m.attempt_id IS NULL
  AND m.user_email IN (SELECT mail FROM users)

UNION ALL
SELECT 'attempt_values_differ', m.go1_enrollment_id, m.go1_enrollment_id,
       m.external_course_id, m.user_email,
       'progress ' || CAST(m.progress AS VARCHAR),
       'progress ' || CAST(m.l360_progress AS VARCHAR),
       '360Learning holds another progress or completion than go1sync pushed'
FROM matched AS m
WHERE m.attempt_id IS NOT NULL AND m.l360_progress IS DISTINCT FROM m.progress
  AND NOT (m.attempt_state = 'closed' AND NOT m.l360_completed)

UNION ALL
SELECT 'open_in_360_completed_in_go1', m.go1_enrollment_id, m.go1_enrollment_id,
       m.external_course_id, m.user_email,
       'completed', 'open (progress ' || CAST(m.l360_progress AS VARCHAR) || ')',
       'the learner finished in Go1; the attempt is still open in 360Learning'
FROM matched AS m
WHERE m.attempt_id IS NOT NULL AND m.attempt_state = 'closed' AND NOT m.l360_completed

UNION ALL
SELECT 'multiple_attempts_per_enrollment',
       a.external_course_id || ' ' || coalesce(a.user_email, '(no email)'), NULL,
       a.external_course_id, a.user_email,
       CAST(coalesce(g.enrollments, 0) AS VARCHAR) || ' Go1 enrollment(s)',
       CAST(count(*) AS VARCHAR) || ' attempts',
       'more attempts in 360Learning than Go1 enrollments for this learner and course'
FROM {{ ref('l360_attempts') }} AS a
LEFT JOIN (SELECT external_course_id, user_email, count(*) AS enrollments
           FROM {{ ref('attempts_360') }} GROUP BY ALL) AS g
    ON g.external_course_id = a.external_course_id AND g.user_email = a.user_email
WHERE a.external_course_id IS NOT NULL
GROUP BY a.external_course_id, a.user_email, g.enrollments
HAVING count(*) > coalesce(g.enrollments, 0)

-- Learners, content, rejects -----------------------------------------------------------------
UNION ALL
SELECT 'learner_without_360_user', a.user_email, NULL, NULL, a.user_email,
       CAST(count(*) AS VARCHAR) || ' attempt(s)', NULL,
       'no 360Learning user has this email (the same email is required on both sides)'
FROM {{ ref('attempts_360') }} AS a, has_read_back
WHERE has_read_back.yes AND a.user_email NOT IN (SELECT mail FROM users)
GROUP BY a.user_email

UNION ALL
SELECT 'enrollment_of_unsynced_content', coalesce(r.go1_key, '(no id)'), r.go1_key, r.detail,
       em.email, r.reason, NULL,
       'an enrollment of Go1 content that is not synced (not in My Library, or a playlist or award)'
FROM {{ ref('rejects') }} AS r
LEFT JOIN {{ ref('enrollment_mapping') }} AS em ON em.enrollment_id = r.go1_key
WHERE r.reason = 'content_not_synced' AND r.entity = 'enrollment'

UNION ALL
SELECT 'rejected', r.entity || ' ' || coalesce(r.go1_key, '(no id)') || ' ' || r.reason,
       r.go1_key, NULL, NULL, r.reason, NULL,
       'rejected by the mapping: ' || r.reason || coalesce(' (' || r.detail || ')', '')
FROM {{ ref('rejects') }} AS r
WHERE r.reason NOT IN ('content_not_synced', 'status_ignored')

UNION ALL
SELECT 'refused_by_360learning', l.kind || ' ' || l.key, l.key,
       coalesce(at.external_course_id, CASE WHEN l.kind <> 'attempt' THEN l.key END),
       at.user_email, l.kind, l.status,
       'not accepted by 360Learning: ' || coalesce(l.error, l.status)
FROM {{ source('meta', 'push_ledger') }} AS l
LEFT JOIN {{ ref('attempts_360') }} AS at
    ON l.kind = 'attempt' AND at.go1_enrollment_id = l.key
WHERE l.status = 'error'  -- the rows it rejected before sending are in marts.rejects
  AND l.run_id = (SELECT max(run_id) FROM {{ source('meta', 'push_ledger') }} AS k
                  WHERE k.kind = l.kind AND k.key = l.key)

UNION ALL
SELECT 'scorm_twin', c.external_id || ' ' || pl.course_id, c.external_id, c.external_id, NULL,
       c.name, pl.name,
       'a 360Learning course outside the integration has the same title (a SCORM import?)'
FROM {{ ref('content_360') }} AS c
JOIN platform_courses AS pl ON lower(trim(pl.name)) = lower(trim(c.name))
WHERE pl.course_id NOT IN (SELECT course_id FROM {{ source('meta', 'pushed_courses') }}
                           WHERE course_id IS NOT NULL)
)

SELECT f.category, f.row_key, f.go1_key, f.external_course_id,
       coalesce(c.name, t.title) AS course_title, f.user_email, f.go1_value, f.l360_value,
       f.detail
FROM found AS f
LEFT JOIN {{ ref('content_360') }} AS c ON c.external_id = f.external_course_id
LEFT JOIN titles AS t ON t.lo_id = f.external_course_id
