-- Day rows per UTC offset in use (docs/adr/0022): a local day of a zone
-- whose offset is o all day long is one precomputed row, as a UTC day is
-- one row of report_rollups. Runs on ClickHouse 18.16 and current
-- ClickHouse (see clickhouse/doc.go).
--
-- zone_offsets registers the offsets in use: the reports register the
-- offset of a zone's whole days on its first query (ready = 0), backfill its
-- rows from the meetings and then mark it ready (ready = 1; the version, so
-- a ready row outlives a later registration of the same offset). Offset 0
-- is never registered: report_rollups' UTC day rows are its rows.

CREATE TABLE IF NOT EXISTS zone_offsets (
    offset_seconds Int32,
    ready UInt8
) ENGINE = ReplacingMergeTree(ready)
ORDER BY offset_seconds;

-- zone_day_rollups: per (app, offset, local day start) the sums of the
-- ended and abandoned meetings that started in [bucket_start, bucket_start +
-- 86400) and their distinct participants (weeks and months are unions of
-- days), recomputed by the sink from meetings FINAL, for every registered
-- offset, whenever a flush touches the day. A day that lost its last meeting
-- keeps a row with meetings = 0. version is the largest meetings version in
-- the day when it was recomputed, as in report_rollups.

CREATE TABLE IF NOT EXISTS zone_day_rollups (
    app_id String,
    offset_seconds Int32,
    bucket_start DateTime('UTC'),
    version UInt64,
    meetings UInt64,
    total_duration_seconds UInt64,
    max_duration_seconds UInt64,
    unique_participants UInt64,
    attendance_seconds UInt64,
    audio_seconds UInt64,
    video_seconds UInt64,
    billable_audio_minutes UInt64,
    billable_video_minutes UInt64,
    participants Array(String)
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYear(bucket_start)
ORDER BY (app_id, offset_seconds, bucket_start);
