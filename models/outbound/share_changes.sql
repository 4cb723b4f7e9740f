{{ config(description="Shares to add or remove: every course 360Learning confirmed belongs in the catalog and the library of every group the integration shares with (the settings' groups but the first, which hosts it, as the last push recorded them in meta.share_groups), against the shares recorded as done (meta.course_shares). Sharing is idempotent on 360Learning's side, so it needs no ledger: a share that failed is still a difference next time.") }}
{{ column("operation", "add (share the course with the group's catalog or library) or remove (the group left the settings).") }}
{{ audit('unique', columns=['course_id', 'group_id', 'target']) }}

WITH desired AS (
    SELECT p.course_id, g.group_id, t.target
    FROM {{ source('meta', 'pushed_courses') }} AS p
    CROSS JOIN {{ source('meta', 'share_groups') }} AS g
    CROSS JOIN (VALUES ('catalog'), ('library')) AS t(target)
    WHERE p.course_id IS NOT NULL
)

SELECT
    coalesce(d.course_id, s.course_id) AS course_id,
    coalesce(d.group_id, s.group_id) AS group_id,
    coalesce(d.target, s.target) AS target,
    CASE WHEN s.course_id IS NULL THEN 'add' ELSE 'remove' END AS operation
FROM desired AS d
FULL OUTER JOIN {{ source('meta', 'course_shares') }} AS s
    ON s.course_id = d.course_id AND s.group_id = d.group_id AND s.target = d.target
WHERE d.course_id IS NULL OR s.course_id IS NULL
