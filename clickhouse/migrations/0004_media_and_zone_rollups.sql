-- Issue 18: audio and video seconds and billable minutes, and roll-ups that
-- serve buckets in any time zone. Runs on ClickHouse 18.16 and current
-- ClickHouse (see clickhouse/doc.go). An ADD COLUMN runs only when the column
-- is missing (Migrate checks system.columns: 18.16 has no ADD COLUMN IF NOT
-- EXISTS), so the file stays idempotent.
--
-- Backfill: a row written before this migration reads its new columns from
-- the DEFAULT expressions (materialised by the next merge), which encode
-- what such a row means: an interval without any audio flag is video, so
-- video_seconds = attended seconds and audio 0, and the billable video
-- minutes of a meeting are the sum over its attendance rows (the attendance
-- JSON column, the part before the unmatched rows) of ceil(attended / 60).
-- `meetingd rebuild` recomputes every row from the log, audio included.

ALTER TABLE meetings ADD COLUMN audio_seconds UInt64 DEFAULT toUInt64(0);
ALTER TABLE meetings ADD COLUMN video_seconds UInt64 DEFAULT total_attendance_seconds;
ALTER TABLE meetings ADD COLUMN billable_audio_minutes UInt64 DEFAULT toUInt64(0);
ALTER TABLE meetings ADD COLUMN billable_video_minutes UInt64 DEFAULT toUInt64(arraySum(arrayMap(x -> intDiv(toUInt64(x) + 59, 60), extractAll(arrayElement(splitByString(',"u":', attendance), 1), '"attended_seconds":([0-9]+)'))));
ALTER TABLE attendance ADD COLUMN audio_seconds UInt64 DEFAULT toUInt64(0);
ALTER TABLE attendance ADD COLUMN video_seconds UInt64 DEFAULT attended_seconds;

-- The report roll-up (replaces duration_rollups): per (app, width, bucket
-- start) the sums of the ended and abandoned meetings that started in the
-- bucket. width 900 (quarter hours: every zone in use has an offset of whole
-- quarter hours, so every local bucket is a union of them) holds the sums
-- only; 3600 (UTC hours) adds the bucket's count of distinct participants;
-- 86400 (UTC days) adds the distinct participants themselves and, for each,
-- the quarter hours of the day in which they attended a counted meeting (bit
-- s of participant_slots_lo for s < 64, bit s-64 of participant_slots_hi
-- otherwise), from which the distinct participants of any local bucket are
-- found. Migrate fills it from the meetings (clickhouse/rollup.go).

CREATE TABLE IF NOT EXISTS report_rollups (
    app_id String,
    width UInt32,
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
    participants Array(String),
    participant_slots_lo Array(UInt64),
    participant_slots_hi Array(UInt64)
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYear(bucket_start)
ORDER BY (app_id, width, bucket_start);

DROP TABLE IF EXISTS daily_durations_v;

CREATE VIEW IF NOT EXISTS daily_durations_v AS
SELECT app_id, toDate(bucket_start) AS day, meetings, total_duration_seconds,
       total_duration_seconds / meetings AS avg_duration_seconds
FROM report_rollups FINAL
WHERE width = 86400 AND meetings > 0;

DROP TABLE IF EXISTS duration_rollups;

-- usage_v: per app and UTC day, the usage of the ended and abandoned
-- meetings that started that day (the day rows of the roll-up).
CREATE VIEW IF NOT EXISTS usage_v AS
SELECT app_id, toDate(bucket_start) AS day, meetings, unique_participants AS participants,
       attendance_seconds, audio_seconds, video_seconds, billable_audio_minutes, billable_video_minutes
FROM report_rollups FINAL
WHERE width = 86400 AND meetings > 0;

-- The meeting and attendance views gain the media split.
DROP TABLE IF EXISTS meetings_v;

CREATE VIEW IF NOT EXISTS meetings_v AS
SELECT app_id, session_id, kind, status, outcome, started_at, ended_at, duration_seconds,
       participant_count, peak_concurrent, total_attendance_seconds, recording_count, last_event_at,
       audio_seconds, video_seconds, billable_audio_minutes, billable_video_minutes
FROM meetings FINAL
WHERE deleted = 0;

DROP TABLE IF EXISTS attendance_v;

CREATE VIEW IF NOT EXISTS attendance_v AS
SELECT app_id, session_id, meeting_started_at, participant, name, first_joined_at, last_left_at,
       attended_seconds, attendance_ratio, join_count, audio_seconds, video_seconds
FROM attendance FINAL
WHERE deleted = 0;
