-- A run that left nothing to send: its push found (or left) no course, share or attempt to
-- write and no operation unsettled, for the parts it pushed. A later run that lands nothing,
-- with no other run between and the same models and targets (the stamp), skips its transform,
-- plan and push: they would rebuild the same tables and find the same nothing.
CREATE TABLE meta.settled (
    run_id     BIGINT NOT NULL,
    parts      VARCHAR[] NOT NULL,  -- courses, attempts: what its push covered
    stamp      VARCHAR NOT NULL,    -- the models' versions, the share groups, the platform
    settled_at TIMESTAMPTZ NOT NULL
);
