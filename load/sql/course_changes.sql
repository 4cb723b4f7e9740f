-- Candidate courses against the committed snapshot (what 360Learning confirmed): full outer
-- join on the key, NULL-safe comparison of the payload hashes.
--   add      live in Go1, never pushed: upserted
--   change   live, pushed, its payload changed: upserted
--   restore  live again in Go1 (published again, back in My Library) while archived in the
--            snapshot: upserted when its payload changed, then restored with its own call
--            (PUT /api/v2/courses/{courseId}/archive {"archived": false}); the upsert is
--            documented as replacing a course's data, not as restoring it
--   archive  pushed and live there, but no longer published in Go1 or gone from the mart
-- upsert says whether the row goes out as an upsert; course_id is 360Learning's id for it.
WITH candidate AS (
    SELECT *, md5(CAST(payload AS VARCHAR)) AS payload_hash FROM candidate_courses
)
SELECT
    coalesce(c.key, p.external_id) AS key,
    CASE
        WHEN c.key IS NOT NULL AND NOT c.archived AND p.external_id IS NULL THEN 'add'
        WHEN c.key IS NOT NULL AND NOT c.archived AND p.archived THEN 'restore'
        WHEN c.key IS NOT NULL AND NOT c.archived
             AND p.payload_hash IS DISTINCT FROM c.payload_hash THEN 'change'
        WHEN (c.key IS NULL OR c.archived) AND p.external_id IS NOT NULL AND NOT p.archived
            THEN 'archive'
        ELSE 'unchanged'
    END AS operation,
    coalesce(c.key IS NOT NULL AND NOT c.archived
             AND p.payload_hash IS DISTINCT FROM c.payload_hash, false) AS upsert,
    c.payload,
    c.payload_hash,
    c.payload_error,
    p.course_id
FROM candidate AS c
FULL OUTER JOIN meta.pushed_courses AS p ON p.external_id = c.key
