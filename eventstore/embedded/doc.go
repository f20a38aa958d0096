// Package embedded is meetingd's default eventstore.Store: a durable event
// log in one local bbolt file, Config.Dir/events.db, that needs no server.
// The read models keep their own files in the same data directory.
//
// # Guarantees
//
//   - Durable before acknowledged. Append returns only after the commit that
//     holds its events is fsynced (bbolt syncs the data pages, then the meta
//     page that switches to them; NoSync is never set). A process killed at
//     any instant loses nothing acknowledged and leaves a consistent file
//     (TestKill9); Open syncs the file once more before serving reads.
//   - Group commit. A single committer goroutine owns all writes: it takes
//     one waiting Append, gathers every other Append already waiting (up to
//     Config.MaxBatchEvents events; one Append is never split) and applies
//     them, in arrival order, in one write transaction with one round of
//     fsyncs. Each Append in a batch is judged on its own (expected revision,
//     duplicates) and sees the appends before it; a storage failure fails the
//     whole batch, and nothing of it is written.
//   - Positions in commit order. The committer numbers events 1, 2, 3, … as
//     it writes them (Position.Commit == Position.Prepare), so a later commit
//     always has higher positions; there are no gaps but the positions of
//     deleted streams, never reused (the newest is kept in the meta bucket).
//   - Stream deletion (delete.go, retention): DeleteStreams removes the
//     streams' records, indexes and heads in one committer transaction;
//     Scrub, also in the committer, waits until no read transaction is open
//     and overwrites every free page with zeros, so the file keeps no byte
//     of a deleted record. Open's check allows as many gaps as were deleted.
//   - Readers see only durable data. bbolt shows a commit's pages to new
//     read transactions before its fsyncs have returned, so read
//     transactions do not begin while a commit is in flight. ReadAll and
//     SubscribeAll also stop at the durable head that the committer
//     publishes after each commit: a subscriber never sees position N+1
//     before N is on disk, nor an event that a crash could take back.
//   - Idempotent appends. Event IDs are indexed per stream, as EventStoreDB
//     recognises them: appending IDs that the stream holds, all of them,
//     writes nothing and reports a duplicate; the same ID in another stream
//     is another event.
//   - Live subscriptions without polling. After each commit the committer
//     replaces the durable head and closes the channel of the one before, so
//     every waiting subscription wakes at once; a subscription catches up
//     and follows in batches of Config.ReadBatchSize events, each in its own
//     short read transaction (a long bbolt read transaction would keep the
//     file from growing).
//   - Stats without a filter is answered from the head; for a prefix that
//     is a stream category (the name up to its first '-', as "session-")
//     from counts kept in memory, in constant time; for any other prefix by
//     summing the stream heads under it.
//   - Errors. Storage failures (full disk, a file size limit or
//     Config.MaxFileSize, I/O errors) are returned as
//     eventstore.ErrUnavailable wrapping the cause. Should a failed sync
//     leave the outcome of a commit in doubt (bbolt's meta page written, its
//     fsync failed: the file shows the commit), the store fails-stop: the
//     committer decides it before any reader can begin a transaction after
//     that commit, and from then on every call (Append, ReadStream, ReadAll,
//     SubscribeAll, Stats, Ping and Health) fails with ErrUnavailable, live
//     subscriptions are woken and end with it, and an error is logged: no
//     reader ever sees the commit in doubt. Only reopening the file (a
//     restart: /healthz answers 503 through Health) settles it. The file is locked
//     exclusively: a second process opening the same Dir fails after
//     Config.LockTimeout with an error that says so.
//   - Close stops admitting calls (eventstore.ErrClosed), ends subscriptions
//     with eventstore.ErrClosed, waits for the appends and read batches in
//     flight, then closes the file.
//
// # File format
//
// Format 2: the records by position, each stream's head, and each stream's
// revision and event-ID indexes side by side under the stream's prefix, so
// that an append dirties the pages of its own stream (codec.go has the
// keys). Open upgrades a format-1 file in place (upgrade.go), checking the
// result against the old index; a crash on the way leaves format 1, and the
// next Open starts the upgrade again. The file never shrinks; freed pages
// are reused by later appends (zeroed first by Scrub after a deletion).
//
// Why bbolt and not Pebble, group commit, format 2 and the category counts,
// with the measurements: docs/adr/0001 to 0004 in the repository.
package embedded
