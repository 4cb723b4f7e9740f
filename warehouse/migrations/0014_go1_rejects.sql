-- Records Go1 sent that cannot be landed in the raw tables: a hit DuckDB's JSON reader refuses
-- (a lone UTF-16 surrogate escape, an emoji cut in half), or one that is no JSON object (a
-- number, a string, null, a list). Kept as text with the reason, in the stream's transaction,
-- so the rest of the page lands and marts.rejects shows them (reason unreadable_record).
CREATE TABLE raw.go1_rejects (
    _run_id       BIGINT NOT NULL,
    _extracted_at TIMESTAMPTZ NOT NULL,
    stream        VARCHAR NOT NULL,   -- learning_objects | enrollments | user_accounts
    go1_key       VARCHAR,            -- the lo_id or id, when the record could be read at all
    reason        VARCHAR NOT NULL,   -- what is wrong with it, in words
    raw_text      VARCHAR NOT NULL    -- the record as Go1 sent it
);
