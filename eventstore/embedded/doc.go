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
//     it writes them (Position.Commit == Position.Prepare), so positions have
//     no gaps and a later commit always has higher positions.
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
// # Layout
//
// File format 2. Buckets: events (position → record), index (each stream's
// revision index and event-ID index side by side under the stream's prefix:
// len(stream) ‖ stream ‖ 0x01 ‖ revision → position and len(stream) ‖
// stream ‖ 0x02 ‖ event ID → position), streams (stream → last revision ‖
// its position) and meta (file format version). Stats without a filter is
// answered from the head; for a prefix that is a stream category (the name
// up to its first '-', as "session-") from counts kept in memory
// (categories.go: 3.3–3.9 ms → 1 µs for the 47,673 sessions of a
// 1,000,000-event log, and no longer one read per session); for any other
// prefix it sums the streams bucket under it.
//
// Format 1 kept the two indexes in buckets of their own, ids (event ID ‖
// stream) and revs. Because event IDs are random, every event dirtied a leaf
// page of ids anywhere in the bucket, besides a page of revs and one of
// streams; bbolt reads each dirty page into memory, rewrites it and syncs it.
// With both indexes under the stream's prefix, an append dirties the pages
// of its own stream. Measured on the development machine (64 goroutines
// appending single events to 500 streams, same run): 2.3–2.5 → 1.6 pages
// written per event, 129–156 → 89–95 µs of CPU per event, 26 → 20 KB
// allocated per webhook in the intake benchmark. Open upgrades a format-1
// file in place (upgrade.go): it builds the new index from revs and the
// records, 50,000 events per transaction, checks it against ids, then drops
// ids and revs and records format 2 in one last transaction; a crash on the
// way leaves format 1, and the next Open starts the upgrade again. The
// freed pages are reused by later appends (the file does not shrink).
//
// # Choice of engine
//
// bbolt (go.etcd.io/bbolt v1.5.0) and Pebble (github.com/cockroachdb/pebble/v2
// v2.1.7) were measured with the same prototype (kept out of this tree), on
// the development machine: 2 vCPUs (AMD EPYC), ext4 on a virtual disk,
// Go 1.26. Both used the committer described above, 64 goroutines appending
// single events of ~600 bytes to 2,000 streams with random 16-byte IDs, four
// keys written per event (record, ID index, revision index, stream head),
// and an fsync on every commit. Three runs each:
//
//	                                   bbolt                 Pebble
//	appends/s, new file                5,800 – 8,500         12,400 – 16,000
//	appends/s, file of 500k events     4,700 – 5,700          6,500 – 7,600
//	events per commit                  ~32                   ~26
//	syncs per commit (strace)          2 fdatasync           1 fdatasync (WAL)
//	writes per commit (strace)         ~54 pwrite            ~3 write
//	append latency p50 / p99           7–10 ms / 19–26 ms    3.6–4.4 ms / 17–20 ms
//	read all, 560k events, 1000/batch  1.2 – 2.2 M events/s  0.48 – 0.51 M events/s
//	disk for 500k synthetic events     ~540 MB               ~55 MB (compressed)
//
// The baseline, one writer appending 600-byte records to a plain file with
// an fsync after each, makes 2,600 – 3,300 writes/s (300 – 380 µs each).
// Pebble's own concurrent Sync commits, without a committer, made ~10,700
// appends/s.
//
// This package's benchmarks of the final store on the same machine
// (go test -bench . -benchtime 3s, four runs; the virtual disk's fsync time
// varies from run to run): BenchmarkAppendParallel 117 – 216 µs/op, that is
// 4,600 – 8,600 durable appends/s at 32–33 events per commit, against
// 365 – 496 µs/op (2,000 – 2,700 writes/s) for
// BenchmarkRawSequentialWriteFsync: 2.3 – 3.2 times the raw baseline,
// comparing the medians of each session. BenchmarkReadAll: 0.66 – 1.06 µs
// per event (0.95 – 1.5 M events/s). An append allocates ~30 KB in ~60
// allocations, mostly its share of bbolt's dirty pages.
//
// bbolt was chosen:
//   - Appends are bound by fsync latency, not by the engine. With group
//     commit both engines beat a file that fsyncs every record by 2–5 times,
//     and both exceed meetingd's webhook rates (hundreds per second at the
//     very most) by an order of magnitude; Pebble's 1.5–2 times faster
//     appends buy nothing here, while bbolt's 2–4 times faster sequential
//     reads speed up projection rebuilds and catch-up.
//   - Its transactions are real and serialisable: an append's dedupe lookup,
//     revision check and index writes are one transaction. Pebble offers
//     batches, not transactions; the same logic needs an indexed batch and
//     external serialisation.
//   - Its crash story is short: a copy-on-write B+tree whose meta page is
//     switched after the data is synced, no write-ahead log to replay, no
//     background flushes or compactions competing for two cores.
//   - One file and one lock: the exclusive flock keeps a second process out,
//     and a consistent copy is one read transaction (Tx.WriteTo).
//   - It is one pure-Go module; Pebble brings about 30 (cockroachdb/errors,
//     sentry-go, gogo/protobuf, …) and cgo packages (DataDog/zstd) in its
//     default build.
//
// Its costs, accepted: two syncs and more page writes per commit; no
// compression (about 1 KB of file per 600-byte event, all indexes
// included); a file that never shrinks, which an append-only log does not
// need; and read transactions that must stay short, hence the batches.
package embedded
