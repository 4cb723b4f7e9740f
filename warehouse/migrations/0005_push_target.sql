-- Where this warehouse pushes: set by its first push, checked by every later one, so the state
-- of one platform (its snapshot, its ledger) is never pushed to another (a test platform to
-- production, say, through a profile that points at the wrong warehouse).
CREATE TABLE meta.push_target (
    api_url        VARCHAR NOT NULL,
    integration_id VARCHAR NOT NULL,
    group_id       VARCHAR NOT NULL,
    run_id         BIGINT NOT NULL,
    set_at         TIMESTAMPTZ NOT NULL
);
