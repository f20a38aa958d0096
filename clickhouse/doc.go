// Package clickhouse makes ClickHouse meetingd's reporting store: versioned
// schema migrations, the projections.Sink that the projection runner feeds,
// the projections.Reports behind /v1 when MEETINGD_CLICKHOUSE_DSN is set, and
// the BI views. It speaks the native protocol (clickhouse-go/v2) and its SQL
// runs on Debian's ClickHouse 18.16 and on current ClickHouse: DateTime('UTC'),
// String, Nullable and Array only, one-argument ReplacingMergeTree, a column
// list in every INSERT, no JOIN, no LowCardinality, DateTime64 or Map.
//
// # Migrations
//
// migrations/NNNN_name.sql, embedded, are applied in order by Migrate (run by
// `meetingd serve` and `meetingd migrate`); schema_migrations records each.
// Every statement is idempotent (IF NOT EXISTS), so an interrupted or
// concurrent migration is completed by the next one.
//
// # Tables
//
// Every table is ReplacingMergeTree(version), version being the projection
// position of the batch that wrote the row (projections.Batch.Version), and
// has deleted (1 = a tombstone). Queries read FINAL … WHERE deleted = 0: the
// newest version of each key, and only keys that still exist.
//
//	table             ORDER BY (the key)                                     PARTITION BY
//	meetings          app_id, started_at, session_id                         toYYYYMM(started_at)
//	attendance        app_id, participant, meeting_started_at, session_id    toYYYYMM(meeting_started_at)
//	intervals         app_id, session_id, participant, joined_at             toYYYYMM(joined_at)
//	recordings        app_id, session_id, kind, url                          —
//	calls             app_id, session_id                                     —
//	session_versions  app_id, session_id (ReplacingMergeTree(seq))           —
//	duration_rollups  app_id, width, bucket_start                            toYear(bucket_start)
//
// The keys follow the report queries: the meeting list and the duration
// report read one app's meetings in a started_at range (a primary-key range,
// and month partitions that a 30-day report mostly prunes); a participant's
// report reads one (app, participant) range of attendance; a meeting's
// intervals and recordings are one (app, session) range. meetings also holds
// the meeting's API document (the domain.Meeting without participants, and
// its participant rows, as JSON), so that GET /v1/meetings/{id} is one
// primary-key read and equals the embedded store's byte for byte; the typed
// columns serve filters, aggregates and BI. calls holds the ringing-flow
// outcome of kind "call" sessions.
//
// # The duration roll-up
//
// duration_rollups holds, per (app, width, bucket start), the duration
// report's figures over the bucket's ended and abandoned meetings: hour
// rows (width 3600) with their count of distinct participants, and day rows
// (86400) that also hold the set of distinct participants, so that a week —
// or a partial week — is the union of its days (distinct counts do not add
// up; sets do). Every flush recomputes, with INSERT … SELECT … FROM
// meetings FINAL … GROUP BY, the hour and day buckets of every meeting it
// writes, including the buckets a meeting leaves when its started_at
// moves (its tombstone is there): one statement per width, the buckets of
// an app in clusters of primary-key ranges. A bucket whose meetings rows
// count for nothing keeps a row with meetings = 0, which readers skip.
// A row's version is the largest meetings version in its bucket, so a
// newer recompute never loses to an older one, and equal versions go to the
// later insert. Reports.Durations reads the roll-up for whole hours (hour
// buckets) or whole days (day and week buckets) inside the range and the
// meetings table only for the partial hour or day at an unaligned edge.
//
// The recompute runs after a flush's rows and before its commits, so a
// flush cut off before it leaves the intent naming the old and the new
// started_at: the re-delivered batch recomputes both. Migrate also runs
// RepairRollups, which recomputes the buckets of every meetings row whose
// version is at least the newest the roll-up has seen: the backfill of a
// database from before the roll-up, and the rows of an older meetingd
// that wrote after the migration.
//
// # Idempotence and rows that disappear
//
// A session's started_at can move (an earlier join arrives) and a participant
// row can disappear from its newer state (an identity gains its uid), so a new
// version does not always overwrite the old rows: their keys differ. The sink
// therefore keeps, per session, the keys of the rows that may be live, in
// session_versions, and writes each session's new version in three steps:
//
//  1. an intent (committed = 0): the keys of the previous state and of the new
//     one together (skipped when the new keys are all known already);
//  2. the new rows, and a tombstone (deleted = 1, same version) for every key
//     of the previous state or intent that the new state lacks;
//  3. the duration roll-ups of the buckets of the previous and new starts;
//  4. the commit (committed = 1, version = the batch's): exactly the new keys.
//
// A version older than the committed one is skipped (re-flushes after a crash
// replay older batches); an equal one rewrites identical rows, which FINAL
// collapses. A flush cut off anywhere leaves an intent that names every key it
// may have written, so the session's next write — which comes, since the
// checkpoint did not pass the batch — tombstones what is stale. Reports are
// exact whenever no flush is half done; after a crash mid-flush, rows of the
// cut-off version may show until the runner has re-flushed the sessions of
// that batch (it does so first, from the checkpoint).
//
// # Batching and acknowledgement
//
// Write joins the open batch; the batch is flushed when it holds
// SinkConfig.FlushSessions sessions or FlushAge after it was opened (one
// timer per batch), in one INSERT per table and a roll-up recompute per
// width. Write returns only after ClickHouse acknowledged every statement
// of its batch, so the runner commits its checkpoint only after; a failed
// flush fails the Writes and the runner retries with backoff, holding the
// read models (not the webhook intake) back while ClickHouse is down. Reset
// (meetingd rebuild) truncates every table, the roll-up included.
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
//	                   recording_count UInt32, last_event_at — one row per meeting, as GET /v1/meetings/{id}
//	attendance_v       app_id, session_id, meeting_started_at, participant, name, first_joined_at,
//	                   last_left_at (NULL while present), attended_seconds UInt64, attendance_ratio Float64,
//	                   join_count UInt32 — one row per participant of a meeting (the API's attendance rows)
//	intervals_v        app_id, session_id, participant, joined_at, left_at (NULL while open) — each presence
//	daily_durations_v  app_id, day Date, meetings UInt64, total_duration_seconds UInt64,
//	                   avg_duration_seconds Float64 — ended and abandoned meetings by the UTC day of
//	                   started_at (the day buckets of /v1/reports/durations; the roll-up's day rows)
//	recordings_v       app_id, session_id, kind (recording|transcription), url, started_at (epoch when
//	                   unknown), duration_seconds Float64 (a transcript's end − start)
//
// # Tests
//
// Tests that need ClickHouse run against the server of MEETINGD_TEST_CLICKHOUSE
// (scripts/clickhouse.sh start prints it; make test and .ci/run set it), each
// in a database of its own (clickhousetest), and skip only when it is unset.
package clickhouse
