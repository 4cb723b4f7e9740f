-- What the last reconcile run found, by key: the next report marks each difference new or old
-- and counts the ones resolved since (reconcile.differences is rebuilt by every transform, so
-- it cannot tell what the previous *reconcile* found). One run's keys at a time.
CREATE TABLE meta.reconcile_keys (
    run_id   BIGINT NOT NULL,    -- the reconcile run that found them
    category VARCHAR NOT NULL,   -- reconcile.differences.category
    row_key  VARCHAR NOT NULL    -- reconcile.differences.row_key
);
