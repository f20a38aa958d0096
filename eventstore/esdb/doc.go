// Package esdb implements eventstore.Store on an EventStoreDB or KurrentDB
// cluster through the official gRPC client
// (github.com/EventStore/EventStore-Client-Go/v4). meetingd uses it when
// MEETINGD_EVENTSTORE holds an esdb:// or kurrentdb:// connection string.
//
// # Configuration
//
// Open(ctx, Config{ConnectionString: …}, log) takes the cluster's connection
// string (esdb://, esdb+discover://, or the kurrentdb://, kurrent:// and kdb://
// synonyms) with the client's settings: tls, tlsCAFile, tlsVerifyCert,
// userCertFile, userKeyFile, nodePreference, keepAliveInterval… Credentials go
// in the user info (esdb://user:password@host:2113) or in Config.Username and
// Config.Password; the client sends them only over TLS. Config also carries a
// CA file, a client certificate and the store's own bounds (timeouts, retries,
// cache size, resubscription backoff). The account needs to read $all (a
// member of $ops or $admins, or granted read on $all) and to write the session
// streams. Open pings once: an unreachable cluster is logged and left to
// /readyz, a refused login fails Open. Ping reads the head of $all within
// PingTimeout and is what /readyz reports. Tombstone hard-deletes a stream
// (the data subjects' keys of privacy/esdbkeys): the account then needs to
// delete streams too.
//
// # Guarantees
//
//   - Idempotent appends, as the contract demands: appending IDs that the
//     stream holds, all of them, writes nothing and reports Duplicate (with
//     the stream's last revision and the newest stored copy's position),
//     some of them, ErrPartialDuplicate. Append reads the stream's new
//     tail (kept in an LRU cache of StreamCacheSize streams) and appends at
//     the exact revision it read, never Any, retrying lost races up to
//     AppendAttempts times: two round trips per append. The one inexact
//     case: two processes appending the same IDs to one stream at the same
//     instant both report Duplicate=false; the events are stored once.
//   - Errors map onto the eventstore sentinels: WrongExpectedVersion →
//     ErrConcurrency, stream not found or deleted → ErrStreamNotFound,
//     unavailable, deadline, not-leader and aborted → ErrUnavailable, a
//     closed store → ErrClosed; refused credentials are reported as they are.
//     After ErrUnavailable the events may or may not be stored; repeating
//     the same call is safe. Stream names beginning with $ belong to the
//     server and are refused with ErrInvalidEvent.
//   - Data is stored as application/json when it is valid JSON (binary
//     otherwise) and Metadata as the event's custom metadata.
//   - Positions: eventstore.Position{Commit, Prepare} is the server's $all
//     position {CommitPosition, PreparePosition}; the zero Position is the
//     start of $all. ReadStream reads
//     ReadPageSize events per request. ReadAll, SubscribeAll and Stats read
//     $all through a catch-up subscription filtered by the server (the zero
//     Filter leaves out the server's own $ streams); ReadAll stops at the
//     head of $all read at the call. This needs caught-up messages
//     (EventStoreDB 23.10 or later, any KurrentDB): with an older server a
//     ReadAll or Stats whose last events do not pass the filter fails with
//     ErrUnavailable after RequestTimeout of silence.
//   - SubscribeAll delivers every matching event once, in order, across
//     dropped subscriptions: it resubscribes from its last event or
//     checkpoint with backoff (ResubscribeMinBackoff to
//     ResubscribeMaxBackoff). It ends only when ctx is done, the store
//     closes, or the cluster refuses its credentials. ReadAll and Stats give
//     up after three failed resubscriptions in a row.
//   - Stats scans the filter's events the first time (cost in proportion to
//     the log), then only what was appended since; events the server later
//     removes stay counted until the process restarts.
//   - DeleteStreams is KurrentDB's soft delete (DeleteStream, not a
//     tombstone: a deleted session's id may come back as new data, with
//     revisions continuing after the deleted ones). The events stay in the
//     chunk files, in reads of $all and in Stats until a scavenge: run one
//     after retention (PRIVACY.md §8).
//   - The client library stops for good once cluster discovery fails
//     (MaxDiscoverAttempts); the store then makes a new client on the next
//     call. The library does not watch ctx while it (re)discovers the
//     cluster, so every library call runs in a goroutine of its own, which
//     ends when the library returns, and the caller returns when ctx is
//     done. Close waits up to CloseTimeout for calls in flight before it
//     closes the client, because the library panics when its client is
//     closed under a call.
//
// The tests run against esdbtest, an in-process server, and also against a
// real one when MEETINGD_TEST_KURRENTDB holds its connection string (see
// README.md). Why appends, reads and tests work this way: docs/adr/0005 to
// 0007 in the repository.
package esdb
