-- Rate limits shared by every starter replica: one GCRA bucket per key, holding its theoretical
-- arrival time. A check is one atomic upsert, so replicas never need to coordinate otherwise.
CREATE TABLE control.rate_buckets (
    bucket  text PRIMARY KEY CHECK (length(bucket) <= 200),
    tat     timestamptz NOT NULL
);
