// Package jobs runs meetingd's scheduled work on robfig/cron/v3 and holds the
// jobs themselves:
//
//   - StaleCloser: a meeting with no end whose newest CometChat timestamp is
//     older than the stale horizon becomes abandoned, by appending
//     domain.SessionAbandoned to its stream;
//   - Reconciler: meetings still live or abandoned past a threshold are
//     looked up in CometChat's Calls REST API (package cometchat/callsapi), and
//     what the API knows that the webhooks did not tell (the end, missing
//     joins and leaves, recordings) is appended as domain.SessionReconciled,
//     with CometChat's per-participant audio/video minutes as provider facts
//     (compared with meetingd's, never replacing them; docs/adr/0016).
//
// Both find their candidates in the read models' open-meeting index
// (OpenMeetings, implemented by projections/readmodel) but decide on the
// event log itself: they read the session's stream, fold it, and append with
// the stream's revision as the expected one, so a webhook that lands in
// between makes them re-read and decide again, never overwrite. Their event
// ids are derived from the content (domain.EventID), so a run repeated after
// a crash, or on another replica, stores nothing twice. The log stays the
// single source of truth: `meetingd rebuild` reproduces every verdict.
//
// The Scheduler gives each job a guard: a run never overlaps the previous
// run of the same job (it is skipped and counted), a panic becomes a failed
// run, and every run is measured (meetingd_job_* metrics) and logged once.
// Clocks are injected (Config.Now) so that tests decide time. The retention
// job (MEETINGD_RETENTION) is package retention's, run by this Scheduler on
// the stale closer's schedule.
package jobs
