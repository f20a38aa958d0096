-- Attendance plans (API.md "Attendance plans, rosters and series"): one row
-- per session that has a plan, keyed by the session like meetings' documents,
-- with its gradebook rows as parallel arrays (one element per attendance row
-- with a verdict: those who joined, then the absent roster members). A plan
-- is never removed, only replaced, so the newest version of a session's row
-- is its current plan and verdicts; a session that moves to another series
-- changes series_id in place. Runs on ClickHouse 18.16 and current ClickHouse.

CREATE TABLE IF NOT EXISTS plans (
    app_id String,
    session_id String,
    version UInt64,
    deleted UInt8,
    series_id String,
    scheduled_start DateTime('UTC'),
    scheduled_end DateTime('UTC'),
    status String,
    roster_count UInt32,
    absent_count UInt32,
    participants Array(String),
    names Array(String),
    on_roster Array(UInt8),
    verdicts Array(String),
    scheduled_attended_seconds Array(UInt64),
    scheduled_attendance_ratios Array(Float64),
    late_seconds Array(UInt64),
    left_early_seconds Array(UInt64)
) ENGINE = ReplacingMergeTree(version)
ORDER BY (app_id, session_id);

-- One row per (session of a series, participant with a verdict): the
-- gradebook's cells. series_id is never '' here.
CREATE VIEW IF NOT EXISTS series_attendance_v AS
SELECT app_id, series_id, session_id, scheduled_start, scheduled_end, status,
       participant, name, on_roster, verdict, scheduled_attended_seconds, scheduled_attendance_ratio,
       late_seconds, left_early_seconds
FROM (
    SELECT app_id, series_id, session_id, scheduled_start, scheduled_end, status, participants, names,
           on_roster AS rosters, verdicts, scheduled_attended_seconds AS secs,
           scheduled_attendance_ratios AS ratios, late_seconds AS lates, left_early_seconds AS earlies
    FROM plans FINAL
    WHERE deleted = 0 AND series_id != ''
)
ARRAY JOIN participants AS participant, names AS name, rosters AS on_roster, verdicts AS verdict,
           secs AS scheduled_attended_seconds, ratios AS scheduled_attendance_ratio,
           lates AS late_seconds, earlies AS left_early_seconds;

-- One row per roster member absent from a planned session (with or without
-- a series: series_id '' when none).
CREATE VIEW IF NOT EXISTS absences_v AS
SELECT app_id, series_id, session_id, scheduled_start, scheduled_end, status, participant, name
FROM (
    SELECT app_id, series_id, session_id, scheduled_start, scheduled_end, status, participants, names, verdicts
    FROM plans FINAL
    WHERE deleted = 0
)
ARRAY JOIN participants AS participant, names AS name, verdicts AS verdict
WHERE verdict = 'absent';
