-- The BI views: plain column names, UTC DateTimes, the current rows only (no
-- FINAL needed by the reader). Their columns are a contract (clickhouse/doc.go,
-- README "ClickHouse and BI"); deploy/'s Grafana dashboard relies on it.

CREATE VIEW IF NOT EXISTS meetings_v AS
SELECT app_id, session_id, kind, status, outcome, started_at, ended_at, duration_seconds,
       participant_count, peak_concurrent, total_attendance_seconds, recording_count, last_event_at
FROM meetings FINAL
WHERE deleted = 0;

CREATE VIEW IF NOT EXISTS attendance_v AS
SELECT app_id, session_id, meeting_started_at, participant, name, first_joined_at, last_left_at,
       attended_seconds, attendance_ratio, join_count
FROM attendance FINAL
WHERE deleted = 0;

CREATE VIEW IF NOT EXISTS intervals_v AS
SELECT app_id, session_id, participant, joined_at, left_at
FROM intervals FINAL
WHERE deleted = 0;

CREATE VIEW IF NOT EXISTS daily_durations_v AS
SELECT app_id, toDate(started_at) AS day, count() AS meetings,
       sum(duration_seconds) AS total_duration_seconds,
       sum(duration_seconds) / count() AS avg_duration_seconds
FROM meetings FINAL
WHERE deleted = 0 AND status IN ('ended', 'abandoned')
GROUP BY app_id, day;

CREATE VIEW IF NOT EXISTS recordings_v AS
SELECT app_id, session_id, kind, url,
       ifNull(start_time, toDateTime(0, 'UTC')) AS started_at,
       duration_seconds
FROM recordings FINAL
WHERE deleted = 0;
