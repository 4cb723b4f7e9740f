{{ config(description="Shares to add or remove: every course in 360Learning (confirmed, meta.pushed_courses) or added by the next push (outbound.course_changes, add with an upsert) belongs in the catalog and the library of every group the integration shares with, against the shares recorded as done (meta.course_shares). The groups are the settings' groups but the first, which hosts it: those plan and push were given (the session variable share_groups, set for the count by plan), else those the last push recorded in meta.share_groups. Sharing is idempotent on 360Learning's side, so it needs no ledger: a share that failed is still a difference next time.") }}
{{ column("course_id", "360Learning's id of the course; NULL while it is unknown (a course the next push adds, or one whose id is still to be read): the push shares it once the id is read, so plan counts it and push sends only rows with an id.") }}
{{ column("external_course_id", "The course's Go1 id (meta.pushed_courses.external_id), NULL for a share of a course no longer in the snapshot.") }}
{{ column("operation", "add (share the course with the group's catalog or library) or remove (the group left the settings).") }}
{{ audit('unique', columns=['course_id', 'group_id', 'target']) }}

WITH share_groups AS (
    SELECT group_id FROM {{ source('meta', 'share_groups') }}
    WHERE getvariable('share_groups') IS NULL
    UNION ALL
    SELECT unnest(getvariable('share_groups')) AS group_id
),

courses AS (
    SELECT external_id AS external_course_id, course_id
    FROM {{ source('meta', 'pushed_courses') }}
    UNION ALL
    SELECT key AS external_course_id, NULL AS course_id
    FROM {{ ref('course_changes') }}
    WHERE operation = 'add' AND upsert
),

desired AS (
    SELECT c.external_course_id, c.course_id, g.group_id, t.target
    FROM courses AS c
    CROSS JOIN share_groups AS g
    CROSS JOIN (VALUES ('catalog'), ('library')) AS t(target)
)

SELECT
    coalesce(d.course_id, s.course_id) AS course_id,
    d.external_course_id,
    coalesce(d.group_id, s.group_id) AS group_id,
    coalesce(d.target, s.target) AS target,
    CASE WHEN d.group_id IS NULL THEN 'remove' ELSE 'add' END AS operation
FROM desired AS d
FULL OUTER JOIN {{ source('meta', 'course_shares') }} AS s
    ON s.course_id = d.course_id AND s.group_id = d.group_id AND s.target = d.target
WHERE d.group_id IS NULL OR s.course_id IS NULL
