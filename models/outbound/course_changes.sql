{{ config(description='Every course against the committed snapshot (what 360Learning confirmed, meta.pushed_courses): what the next push does with it, read by plan and push alike. A view: the push reads it again as its own confirmations land.') }}
{{ column('operation', 'add (live in Go1, never pushed), change (live, its payload changed), restore (live in Go1 again while archived in the snapshot: upserted first when its payload changed, then restored with PUT /api/v2/courses/{courseId}/archive, since the upsert is documented as replacing data, not as restoring), archive (pushed and live there, but no longer published in Go1 or gone from the mapping), never_pushed (archived in Go1 and never pushed: there is nothing to archive in 360Learning, and nothing is sent), or unchanged.') }}
{{ column('upsert', 'Goes out as an upsert now: live, with a payload other than the one confirmed, and a valid one.') }}
{{ column('restore', 'Is restored now: operation restore, with no upsert waiting first (one that failed keeps it waiting).') }}
{{ column('archive', 'Is archived now (DELETE bulk integration courses).') }}
{{ column('send', 'Is written to 360Learning by the next push: upsert, restore or archive.') }}
{{ column('held_reason', 'Why a course with something to send is not sent: operation_unsettled (a row of it is in a bulk operation not settled yet, outbound.unsettled), invalid_payload (see payload_error and marts.rejects); NULL otherwise.') }}
{{ column("course_id", "360Learning's id of the course, once known (meta.pushed_courses.course_id).") }}

WITH compared AS (
    SELECT
        coalesce(c.key, p.external_id) AS key,
        CASE
            WHEN c.key IS NOT NULL AND NOT c.archived AND p.external_id IS NULL THEN 'add'
            WHEN c.key IS NOT NULL AND NOT c.archived AND p.archived THEN 'restore'
            WHEN c.key IS NOT NULL AND NOT c.archived
                 AND p.payload_hash IS DISTINCT FROM c.payload_hash THEN 'change'
            WHEN (c.key IS NULL OR c.archived) AND p.external_id IS NOT NULL AND NOT p.archived
                THEN 'archive'
            WHEN c.archived AND p.external_id IS NULL THEN 'never_pushed'
            ELSE 'unchanged'
        END AS operation,
        coalesce(c.key IS NOT NULL AND NOT c.archived
                 AND p.payload_hash IS DISTINCT FROM c.payload_hash, false) AS new_payload,
        c.payload,
        c.payload_hash,
        c.payload_error,
        p.course_id
    FROM {{ ref('course_payloads') }} AS c
    FULL OUTER JOIN {{ source('meta', 'pushed_courses') }} AS p ON p.external_id = c.key
),

held AS (
    SELECT
        *,
        CASE WHEN key IN (SELECT key FROM {{ ref('unsettled') }} WHERE kind LIKE 'course%')
                 THEN 'operation_unsettled'
             WHEN new_payload AND payload_error IS NOT NULL THEN 'invalid_payload'
        END AS held
    FROM compared
),

decided AS (
    SELECT
        key,
        operation,
        new_payload AND held IS NULL AS upsert,
        operation = 'restore' AND NOT new_payload AND payload_error IS NULL AND held IS NULL
            AS restore,
        operation = 'archive' AND held IS NULL AS archive,
        CASE WHEN operation NOT IN ('unchanged', 'never_pushed') THEN held END AS held_reason,
        payload,
        payload_hash,
        payload_error,
        course_id
    FROM held
)

SELECT
    key,
    operation,
    upsert,
    restore,
    archive,
    upsert OR restore OR archive AS send,
    held_reason,
    payload,
    payload_hash,
    payload_error,
    course_id
FROM decided
