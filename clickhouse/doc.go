// Package clickhouse makes ClickHouse meetingd's reporting store: versioned
// schema migrations, the projections.Sink that the projection runner feeds,
// the reports.Store behind /v1 when MEETINGD_CLICKHOUSE_DSN is set, and
// the BI views. It speaks the native protocol (clickhouse-go/v2) and its SQL
// runs on Debian's ClickHouse 18.16 and on current ClickHouse: DateTime('UTC'),
// String, Nullable and Array only, one-argument ReplacingMergeTree, a column
// list in every INSERT, no JOIN, no LowCardinality, DateTime64 or Map.
//
// # Migrations
//
// migrations/NNNN_name.sql, embedded, are applied in order by Migrate (run by
// `meetingd serve` and `meetingd migrate`); schema_migrations records each.
// Every statement is idempotent (IF NOT EXISTS; an ADD COLUMN runs only
// when the column is missing), so an interrupted migration is completed by
// the next one. Migrate then runs RepairRollups, which brings the roll-ups
// up to the meetings table (a backfill on a database from before them).
//
// # Guarantees
//
//   - Tables: meetings, attendance (rows of people who joined), intervals,
//     recordings, calls, plans (one row per planned session, its gradebook
//     rows as arrays; never tombstoned: a plan is only replaced),
//     session_versions, report_rollups and zone_day_rollups. Every row carries the projection
//     position of the batch that wrote it as its ReplacingMergeTree version,
//     and a deleted flag; queries read FINAL … WHERE deleted = 0, the newest
//     version of each key that still exists.
//   - Idempotent writes. A re-flushed batch rewrites identical rows or is
//     skipped as older. Rows that a session's newer state no longer has (its
//     started_at moved, a participant row disappeared) are tombstoned, from
//     the keys the session's last write recorded in session_versions.
//     Reports are exact whenever no flush is half done; after a crash
//     mid-flush, rows of the cut-off version may show until the runner
//     re-flushes that batch's sessions (it does so first).
//   - Acknowledgement. Write joins the open batch; the batch is flushed when
//     it holds SinkConfig.FlushSessions sessions or FlushAge after it was
//     opened (one timer per batch), in one INSERT per table and a roll-up
//     recompute per width. Write returns only after ClickHouse acknowledged
//     every statement of its batch, so the runner commits its checkpoint
//     only after; a failed flush fails the Writes and the runner retries,
//     holding the read models (not the intake) back while ClickHouse is
//     down. Reset (rebuild) truncates every table but zone_offsets. Erase
//     rewrites sessions' rows pseudonymised; DeleteSessions removes them.
//   - Reports answer as the embedded store does (reports/reportstest). UTC
//     durations read hour and day roll-up rows. Other zones, months and usage
//     read each whole local day (24 h, one offset) from its offset's day row
//     (zone_day_rollups; 0: the UTC day rows), and hours, DST days and range
//     edges from quarter-hour rows and day masks (zones.go). A query registers
//     its offsets and backfills them; flushes keep them (offsets.go).
//
// # BI views
//
// Plain names, UTC DateTimes, current rows only (no FINAL needed by the
// reader); deploy/'s dashboards rely on these columns:
//
//	meetings_v         app_id, session_id, kind (meeting|call), status (live|ended|abandoned),
//	                   outcome ('' for meetings; initiated|answered|unanswered|rejected|busy|cancelled),
//	                   started_at, ended_at (NULL while live), duration_seconds UInt64,
//	                   participant_count UInt32, peak_concurrent UInt32, total_attendance_seconds UInt64,
//	                   recording_count UInt32, last_event_at, audio_seconds, video_seconds UInt64,
//	                   billable_audio_minutes, billable_video_minutes UInt64 — one row per meeting
//	attendance_v       app_id, session_id, meeting_started_at, participant, name, first_joined_at,
//	                   last_left_at (NULL while present), attended_seconds UInt64, attendance_ratio Float64,
//	                   join_count UInt32, audio_seconds, video_seconds UInt64 — the API's attendance rows
//	intervals_v        app_id, session_id, participant, joined_at, left_at (NULL while open) — each presence
//	daily_durations_v  app_id, day Date, meetings UInt64, total_duration_seconds UInt64,
//	                   avg_duration_seconds Float64 — ended and abandoned meetings by the UTC day of
//	                   started_at (the day buckets of /v1/reports/durations; the roll-up's day rows)
//	series_attendance_v  app_id, series_id, session_id, scheduled_start, scheduled_end, status, participant,
//	                   name, on_roster UInt8, verdict, scheduled_attended_seconds UInt64,
//	                   scheduled_attendance_ratio Float64, late_seconds, left_early_seconds — gradebook cells
//	absences_v         app_id, series_id ('' without), session_id, scheduled_start, scheduled_end, status,
//	                   participant, name — roster members absent from a planned session
//	usage_v            app_id, day Date, meetings, participants, attendance_seconds, audio_seconds,
//	                   video_seconds, billable_audio_minutes, billable_video_minutes (UInt64) — by UTC day
//	recordings_v       app_id, session_id, kind (recording|transcription), url, started_at (epoch when
//	                   unknown), duration_seconds Float64 (a transcript's end − start)
//
// Tests: MEETINGD_TEST_CLICKHOUSE, a database each (clickhousetest). Why:
// docs/adr/0008–0010, 0018, 0022; Erase 0024; DeleteSessions 0025.
package clickhouse
