-- What a webhook micro-run learnt of My Library for one learning object: Go1 said it joined or
-- left (content.add, content.remove), and the listing filtered to its id answered under the
-- state asked (in_library) or not. staging.go1_learning_objects lets a check newer than the
-- latest full listing stand in for it, for that lo_id; the next full listing supersedes it.
CREATE TABLE raw.go1_library_checks (
    _run_id       BIGINT NOT NULL,
    _extracted_at TIMESTAMPTZ NOT NULL,
    lo_id         VARCHAR NOT NULL,
    listed_state  VARCHAR NOT NULL,   -- the state[] asked (the object's own lifecycle state)
    in_library    BOOLEAN NOT NULL
);

-- Every webhook event a micro-run processed, committed with what it landed: the inbox's
-- events already here are not processed again (a crash between this commit and the inbox's
-- own record of it, or a delivery Go1 repeated after the inbox compacted).
CREATE TABLE meta.webhook_events (
    event_key    VARCHAR PRIMARY KEY,  -- the inbox's first key (id:… or ots:…)
    run_id       BIGINT NOT NULL,      -- the micro-run
    event_type   VARCHAR NOT NULL,
    object_id    VARCHAR,              -- data.id
    lo_id        VARCHAR,              -- data.lo_id
    sent         VARCHAR,              -- Go1's sent, as it came
    received_at  TIMESTAMPTZ NOT NULL, -- when the receiver stored it
    processed_at TIMESTAMPTZ NOT NULL,
    outcome      VARCHAR NOT NULL      -- landed | not_found | ignored (an event type go1sync does not act on)
);
