// Package readmodel is the embedded read-model store: the projection runner's
// projections.StateStore (fold state, read models and checkpoint, written in
// one transaction) and the reports.Store behind /v1, on bbolt, in
// <Dir>/readmodels.db (the event log lives in its own file).
//
// # Layout
//
// Strings inside keys are length-prefixed (uvarint length, then the bytes),
// so one app's keys — or one participant's — never share a prefix with
// another's, whatever bytes the ids contain. Times are Unix seconds as 8
// big-endian bytes with the sign bit flipped, so that keys sort by time. The
// session id ends every key, raw, so that equal times sort by session id.
//
//	bucket           key                                          value
//	meta             "layout"                                     layout version (1 byte)
//	                 "checkpoint"                                 projections.Checkpoint, JSON
//	sessions         app | session                                the session record (below)
//	idx_time         app | started_at | session                   summary (binary): status, duration, participants,
//	                                                              attendance, FNV-1a hash of each identity, media sums
//	rows             app | started_at | session                   the domain.Meeting without participants, JSON (codec.MeetingRow)
//	idx_participant  app | participant | started_at | session     status, attended_seconds, join_count,
//	                                                              attendance_ratio (binary); joined rows only
//	idx_series       app | series | session                       the session's gradebook rows (series.go)
//	series_of        app | session                                the series it is indexed under
//
// A session record holds, in sections that each reader slices out without
// decoding the others: the version written, the started_at indexed, its
// participant rows (codec.Participants, s2-compressed), the domain.Facts
// (codec.MarshalFacts, s2-compressed) and the participant identities indexed. The meeting itself
// (the list row) is kept apart in rows, under its time index key, so that a
// page of the meeting list reads a few consecutive leaves (about ten for 100
// meetings) instead of one record per meeting (layout 2, docs/adr/0011).
//
// The record keeps what the stored version indexed (its started_at and
// participants), so that Write deletes exactly the old index entries when a
// session's started_at moves or a participant row disappears, and ignores a
// version older than the stored one. Write encodes the batch on every CPU
// while its transaction puts the sessions already encoded, in key order, then
// their index entries and the checkpoint, and commits in one fsynced bbolt
// transaction: a reader, or a restart, sees the batch whole or not at all.
//
// A batch written to an empty store (new, or just Reset: a rebuild, see
// projections.Config.RebuildBatchSize) is bulk-loaded, every bucket filled in
// key order with full pages, storing the same keys and values as the
// incremental path (TestBulkLoadMatchesIncremental; docs/adr/0012).
//
// Meeting-list cursors are reports.Cursor: the (started_at, session) of
// the last meeting of a page; the next page starts strictly below it.
//
// # Cost of each query
//
// With n sessions in the store (B-tree depth O(log n)):
//
//   - Meeting: two point lookups (record, then row), O(log n), and decoding.
//   - Meetings: one range scan of idx_time (or, with ?participant=, of that
//     participant's idx_participant range), newest first from the cursor or
//     To, deciding the status filter from the index value; the returned
//     meetings' rows are read from the rows bucket, in the same key order
//     (for the time index, neighbouring keys of the same leaves).
//     O(log n + s + limit·log n), s the entries skipped by the status
//     filter, plus one further matching entry to tell whether a next page exists.
//   - ParticipantAttendance: one range scan of the participant's entries
//     in [From, To), O(log n + k), for the totals (summed from the index
//     values); only the page's rows are built; no meeting is decoded.
//   - Durations and Usage: one ascending range scan of the app's idx_time
//     entries in [From, To): O(log n + r), r the meetings that started in
//     the range, reading only the index values; buckets of any zone, their
//     bounds computed once per bucket (docs/adr/0017).
//   - Write: per session one record read and write, one row and 1 + p
//     index writes (p its participants; deletes too when started_at moved),
//     O((1 + p)·log n); one fsync per batch (sequential on an empty store).
//   - Series: one range scan of the series' idx_series entries, O(log n + k).
//   - LoadFacts: a lookup per key. Erasure (erase.go, docs/adr/0024): Pseudonymise scans the app's records, Scrub zeroes free pages;
//     retention (retention.go): Expired scans rows started before the cutoff, DeleteSessions drops records and index entries.
//   - Reset: waits for running queries and writes, removes the file and
//     creates an empty one: O(1) (docs/adr/0012). Open empties a store
//     written with another layout (all buckets dropped in one transaction,
//     logged): read models are derived data, and the runner's catch-up
//     rebuilds them from the log.
package readmodel
