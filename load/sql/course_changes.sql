-- Candidate courses against the committed snapshot (what 360Learning confirmed): full outer
-- join on the key, NULL-safe comparison of the payload hashes.
WITH candidate AS (
    SELECT *, md5(CAST(payload AS VARCHAR)) AS payload_hash FROM candidate_courses
)
SELECT
    coalesce(c.key, p.external_id) AS key,
    CASE
        WHEN c.key IS NOT NULL AND NOT c.archived AND p.external_id IS NULL THEN 'add'
        WHEN c.key IS NOT NULL AND NOT c.archived
             AND (p.archived OR p.payload_hash IS DISTINCT FROM c.payload_hash) THEN 'change'
        WHEN (c.key IS NULL OR c.archived) AND p.external_id IS NOT NULL AND NOT p.archived
            THEN 'archive'
        ELSE 'unchanged'
    END AS operation,
    c.payload,
    c.payload_hash,
    c.payload_error,
    p.course_id
FROM candidate AS c
FULL OUTER JOIN meta.pushed_courses AS p ON p.external_id = c.key
