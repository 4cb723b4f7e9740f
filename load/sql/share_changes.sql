-- Shares to add or remove: every course 360Learning confirmed, in the catalog and the library
-- of every group of the settings but the first (which hosts the integration), against the
-- shares recorded as done. $groups is that list of groups.
WITH desired AS (
    SELECT p.course_id, g.group_id, t.target
    FROM meta.pushed_courses AS p
    CROSS JOIN (SELECT unnest($groups::VARCHAR[]) AS group_id) AS g
    CROSS JOIN (VALUES ('catalog'), ('library')) AS t(target)
    WHERE p.course_id IS NOT NULL
)
SELECT
    coalesce(d.course_id, s.course_id) AS course_id,
    coalesce(d.group_id, s.group_id) AS group_id,
    coalesce(d.target, s.target) AS target,
    CASE WHEN s.course_id IS NULL THEN 'add' ELSE 'remove' END AS operation
FROM desired AS d
FULL OUTER JOIN meta.course_shares AS s
    ON s.course_id = d.course_id AND s.group_id = d.group_id AND s.target = d.target
WHERE d.course_id IS NULL OR s.course_id IS NULL
ORDER BY target, operation, group_id, course_id
