-- Latest version per key, chosen on the small columns only: the window of 0001 carried every
-- record's JSON through its partitions, and ran out of memory on a large catalog.
CREATE OR REPLACE VIEW raw.go1_learning_objects_latest AS
SELECT * FROM raw.go1_learning_objects
WHERE rowid IN (SELECT arg_max(rowid, (_run_id, _extracted_at)) FROM raw.go1_learning_objects
                GROUP BY coalesce(lo_id, _record_hash));

CREATE OR REPLACE VIEW raw.go1_enrollments_latest AS
SELECT * FROM raw.go1_enrollments
WHERE rowid IN (SELECT arg_max(rowid, (_run_id, _extracted_at)) FROM raw.go1_enrollments
                GROUP BY coalesce(enrollment_id, _record_hash));

CREATE OR REPLACE VIEW raw.go1_user_accounts_latest AS
SELECT * FROM raw.go1_user_accounts
WHERE rowid IN (SELECT arg_max(rowid, (_run_id, _extracted_at)) FROM raw.go1_user_accounts
                GROUP BY coalesce(user_account_id, _record_hash));
