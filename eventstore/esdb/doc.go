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
// PingTimeout and is what /readyz reports.
//
// # Appends and duplicates
//
// EventStoreDB deduplicates an append durably only when it names an exact
// expected revision (or NoStream): the server then compares the event IDs with
// the events that follow that revision and, if they are the same events,
// answers success without writing. With Any it only looks in a cache of recent
// writes. So Append never sends Any. For each call it
//
//  1. serialises with the other appends to the same stream in this process,
//  2. brings its picture of the stream up to date: the IDs, revisions and
//     positions of the stream's events, kept in an LRU cache of
//     StreamCacheSize streams so that only the new tail is read (one small
//     read, usually empty; the whole stream the first time),
//  3. classifies the appended IDs against the stream: all present → the
//     result has Duplicate set, NextRevision the stream's last revision and
//     Position the position of the newest stored copy, whatever the expected
//     revision says; some present → ErrPartialDuplicate; none → it checks the
//     caller's expected revision (ErrConcurrency when it does not hold),
//  4. appends with the exact revision it read (NoStream for a new stream). On
//     WrongExpectedVersion — someone appended in between — it pauses a few
//     random milliseconds, reads the new tail and starts again from 3, at
//     most AppendAttempts times, after which
//     it gives up with ErrUnavailable (nothing written). A concurrent writer
//     that stored the same IDs is thereby recognised as a duplicate.
//
// An append thus costs two round trips (tail read, append) and reads a whole
// stream only the first time this process appends to it.
//
// The result is exact with one exception: when two processes append the same
// IDs to one stream at the same instant (between one's read and its append),
// the server's idempotence answers the second with success, so both report
// Duplicate=false; the events are still stored once. Within one process this
// cannot happen (step 1).
//
// A call that fails in a way whose outcome is unknown (deadline, lost
// connection) returns ErrUnavailable; the events may or may not be stored,
// and repeating the same call is safe: it then reports a duplicate or writes.
// Driver errors map onto the eventstore sentinels: WrongExpectedVersion →
// ErrConcurrency, stream not found or deleted → ErrStreamNotFound,
// unavailable, deadline, not-leader and aborted → ErrUnavailable, a closed
// store → ErrClosed; refused credentials are reported as they are.
//
// Stream names beginning with $ belong to the server and are refused with
// ErrInvalidEvent. Data is stored as application/json when it is valid JSON
// (binary otherwise) and Metadata as the event's custom metadata.
//
// # Reading, subscribing, positions
//
// eventstore.Position{Commit, Prepare} is the server's $all position
// {CommitPosition, PreparePosition}; the zero Position is the start of $all.
// ReadStream reads ReadPageSize events per request. ReadAll and SubscribeAll
// use a catch-up subscription to $all with a server-side filter on the stream
// name: the Filter's prefixes, or for the zero Filter the regular expression
// ^[^$], which leaves out the server's own streams (statistics, metadata,
// projection links). The client applies the same test again. ReadAll stops at
// the head of $all read at the call (an event, a checkpoint at or past it, or
// caught-up); the client library cannot send a filtered counted read. This
// needs a server that sends caught-up messages (EventStoreDB 23.10 or later,
// any KurrentDB): with an older one a ReadAll or Stats whose last events do not
// pass the filter fails with ErrUnavailable after RequestTimeout of silence.
//
// SubscribeAll remembers the position of the last event and of the last
// checkpoint (the server sends one every FilterWindow×CheckpointMultiplier
// events it scans, matching or not). When the subscription drops (network,
// server restart, consumer too slow) it resubscribes from the later of the
// two — subscription positions are exclusive — after an exponential backoff
// from ResubscribeMinBackoff to ResubscribeMaxBackoff that resets once events
// flow again, and drops any event at or before the last one it delivered. The
// consumer therefore sees every matching event once, in order, across drops.
// It ends only when ctx is done, the store closes, or the cluster refuses the
// subscription's credentials. ReadAll and Stats resubscribe in the same way
// but give up after three failures in a row.
//
// # Stats
//
// Stats(filter) counts the filter's events by scanning $all through the same
// filtered subscription. The first call for a filter reads every matching
// event (the server skips the others), so it costs in proportion to the log;
// the store keeps the count and where it stopped, and later calls scan only
// what was appended since. Events that the server later removes (stream
// deletion, $maxAge scavenges; meetingd does neither) stay counted until the
// process restarts.
//
// # Client library caveats
//
// The library's client stops for good once cluster discovery fails
// (MaxDiscoverAttempts); the store then makes a new client on the next call.
// The library does not watch ctx while it (re)discovers the cluster, so every
// library call runs in a goroutine of its own and the caller returns when ctx
// is done; such a goroutine ends when the library returns. Close waits up to
// CloseTimeout for calls in flight before it closes the client, because the
// library panics when its client is closed under a call.
//
// # Testing
//
// The package's tests run the shared eventstore/storetest suite and the
// adapter's own tests through the real client library over loopback gRPC
// against esdbtest, an in-process server that implements the part of the
// protocol the adapter uses. Set MEETINGD_TEST_KURRENTDB to run the same tests
// against a real server as well:
//
//	docker run -d --name kurrentdb -p 2113:2113 \
//	    -e KURRENTDB_INSECURE=true -e KURRENTDB_RUN_PROJECTIONS=None \
//	    docker.kurrent.io/kurrent-latest/kurrentdb:latest
//	MEETINGD_TEST_KURRENTDB='kurrentdb://localhost:2113?tls=false' \
//	    go test -race ./eventstore/esdb/...
//
// Each test uses streams and prefixes of its own, so a shared server needs no
// reset; tests that cut connections or inject faults run only in-process.
//
// The in-process server (see esdbtest) reproduces: Streams.Append with the
// expected-revision checks and the server's idempotence after an exact
// revision or NoStream (the same IDs right after the expected revision →
// success without writing; some of them → WrongExpectedVersion); Any and
// StreamExists appends, with an idempotence check over the whole stream where
// the real server only looks at recent writes; counted reads of a stream and
// of $all forwards and backwards (StreamNotFound, inclusive forward and
// exclusive backward positions); catch-up subscriptions to $all with the
// confirmation, stream-name or event-type filters by prefix or regex,
// checkpoints every window×multiplier scanned events, caught-up on reaching
// the end, then live events; positions with Commit ≠ Prepare (one commit
// position per append, one prepare position per event) and server-owned $
// streams in $all; TLS and HTTP Basic credentials on demand (a refused login
// is Unauthenticated); plus faults on demand (cutting subscriptions, failing
// appends before or after writing, losing append races).
//
// Only a real server shows: durability, replication and quorum acknowledgement;
// clusters, gossip discovery, leader elections and not-leader redirects; user
// accounts, ACLs and X.509 user certificates; the idempotence cache's
// limits with Any; scavenging, deletion, $maxAge/$maxCount and tombstones;
// link events and projections; the server's page sizes, its own checkpoint
// timing and fell-behind/too-slow drops; its message-size limits; and the
// timing of real network failures. The README section:
//
//	### Running the event-store tests against KurrentDB
//
//	The `eventstore/esdb` tests run against an in-process gRPC server by
//	default. To run them against a real EventStoreDB/KurrentDB as well, start
//	one (for example `docker run -d -p 2113:2113 -e KURRENTDB_INSECURE=true
//	docker.kurrent.io/kurrent-latest/kurrentdb:latest`) and set
//	`MEETINGD_TEST_KURRENTDB` to its connection string:
//
//	    MEETINGD_TEST_KURRENTDB='kurrentdb://localhost:2113?tls=false' go test -race ./eventstore/esdb/...
//
//	The tests write uniquely named streams and never delete anything, so any
//	disposable server will do; the fault-injection tests (cut subscriptions,
//	failed appends) run only against the in-process server. Filtered reads
//	need EventStoreDB 23.10 or later (any KurrentDB), which sends caught-up
//	messages.
package esdb
