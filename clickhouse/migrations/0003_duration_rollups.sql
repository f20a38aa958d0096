-- The duration roll-up: per (app, width, bucket start) the duration report's
-- figures over the ended and abandoned meetings that started in the bucket,
-- recomputed by the sink from meetings FINAL for every bucket a flush
-- touches. width is 3600 (hour rows) or 86400 (day rows); day rows also hold
-- the bucket's distinct participants, so that weeks (and partial weeks) are
-- unions of days. A bucket that lost its last meeting keeps a row with
-- meetings = 0, which readers skip. version is the largest meetings version
-- in the bucket when it was recomputed: a newer recompute never loses to an
-- older one (equal versions: the later insert wins). Migrate fills it from
-- the existing meetings (clickhouse/rollup.go). Runs on ClickHouse 18.16 and
-- current ClickHouse (see clickhouse/doc.go).

CREATE TABLE IF NOT EXISTS duration_rollups (
    app_id String,
    width UInt32,
    bucket_start DateTime('UTC'),
    version UInt64,
    meetings UInt64,
    total_duration_seconds UInt64,
    max_duration_seconds UInt64,
    unique_participants UInt64,
    attendance_seconds UInt64,
    participants Array(String)
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYear(bucket_start)
ORDER BY (app_id, width, bucket_start);

-- The BI view of daily durations reads the day rows instead of every meeting
-- (same columns and values; a view cannot be altered on 18.16).
DROP TABLE IF EXISTS daily_durations_v;

CREATE VIEW IF NOT EXISTS daily_durations_v AS
SELECT app_id, toDate(bucket_start) AS day, meetings, total_duration_seconds,
       total_duration_seconds / meetings AS avg_duration_seconds
FROM duration_rollups FINAL
WHERE width = 86400 AND meetings > 0;
