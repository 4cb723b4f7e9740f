-- The groups the integration shares its courses with (the settings' L360_GROUP_IDS but the
-- first), as the last push found them: outbound.share_changes compares the shares recorded in
-- meta.course_shares with these, so plan and push read one relation.
CREATE TABLE meta.share_groups (
    group_id  VARCHAR PRIMARY KEY,
    run_id    BIGINT NOT NULL,
    set_at    TIMESTAMPTZ NOT NULL
);

-- A warehouse that shared before this table existed: the groups it shared with, until the next
-- push writes the settings' own.
INSERT INTO meta.share_groups
SELECT group_id, max(run_id), max(shared_at) FROM meta.course_shares GROUP BY group_id;
