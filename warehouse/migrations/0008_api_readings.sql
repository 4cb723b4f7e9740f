-- Readings of the live APIs where the documents are silent or ambiguous: checked once on the
-- platform itself and remembered, so go1sync adapts to what the API really does instead of
-- depending on one reading of its documents (README, "Endpoints and scopes").
--   go1  enrollments_path          the path the gateway answers the enrollment list on
--   go1  user_list_has_emails      whether GET /user-accounts hits carry user.email
--   l360 resource_id_is_course_id  whether a course upsert's resourceId is the course's id
CREATE TABLE meta.api_readings (
    api         VARCHAR NOT NULL,   -- go1 | l360
    base_url    VARCHAR NOT NULL,   -- the API the reading was made on (GO1_API_URL, L360_API_URL)
    reading     VARCHAR NOT NULL,
    value       VARCHAR NOT NULL,
    detail      VARCHAR,            -- what was seen, in a few words
    run_id      BIGINT,
    checked_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (api, base_url, reading)
);
