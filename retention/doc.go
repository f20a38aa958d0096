// Package retention deletes whole sessions past MEETINGD_RETENTION (API.md
// "Privacy: erasure and retention"), by the same means as an erasure, from
// the event log, every derived store and the caches. Job is a jobs.Job.
//
// # Which sessions
//
// A session expires when its retention time is older than now − Window:
// the meeting's newest CometChat timestamp (domain.Meeting.LastEventAt:
// the latest timestamp carried by any of its CometChat events, webhooks or
// the Calls API's, not when meetingd received them); a session that has no
// CometChat event (an attendance plan only, status "scheduled") by its
// plan's scheduled end. Finder (the embedded read models) lists them.
//
// # A run
//
//  1. retention.started.v1 (stream Stream) records the run: its id, the
//     window, the cutoff, the number of sessions; retention.sessions.v1
//     events list them (app and session ids: no personal data), so that a
//     run cut off anywhere is finished by the next run with the same list;
//  2. every Deleter deletes the sessions, in order: the log's streams
//     first (eventstore.StreamDeleter), then ClickHouse, the read models
//     and the runner's fold cache, the notification outbox, the keys of
//     quarantined bodies naming the sessions (Quarantine), the intake's
//     cache; each deletion is idempotent;
//  3. every Scrubber overwrites the freed pages of its file;
//  4. retention.done.v1 records the counts and the time it took.
//
// A run handles at most Config.Batch sessions per round and repeats rounds
// until none is left. Runs that find nothing record nothing. Metrics:
// meetingd_retention_sessions_deleted_total, _runs_total{outcome},
// _last_run_timestamp_seconds.
//
// # Keys
//
// Subjects' keys (package privacy) are per participant, not per session:
// a participant of a deleted session may have retained sessions sealed
// under the same key, so retention deletes the sealed events themselves
// and leaves the keys (PRIVACY.md §8).
package retention
