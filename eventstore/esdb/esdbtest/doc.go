// Package esdbtest is an in-process EventStoreDB for tests: a gRPC server,
// built on the Streams service interface generated in the official client
// module (protos/streams), that keeps its log in memory and implements the
// subset of the protocol that eventstore/esdb uses: Streams.Append with
// expected revisions and the server's idempotence, Streams.Read for counted
// reads of a stream or of $all, and catch-up subscriptions to $all with
// filters, confirmation, checkpoints and caught-up messages, and
// Streams.Delete as a soft delete (the stream reads as not found, an append
// re-creates it with revisions continuing after the deleted ones, its
// events stay in $all as on a real server until a scavenge), and
// Streams.Tombstone (hard deletes). Scavenge then drops the deleted
// events from $all; Records lets a test scan every stored byte. The
// client's other calls (server features, gossip, persistent subscriptions)
// are answered Unimplemented, which the client accepts as an older server.
//
// StartServer(t) starts one on a free loopback port for the duration of a
// test and returns its connection string (esdb://127.0.0.1:port?tls=false);
// Start does the same outside tests, e.g. to run meetingd serve end to end.
// WithTLS and WithCredentials make it serve TLS and demand HTTP Basic
// credentials, as a secure node does.
// The Server's methods inject faults: CutSubscriptions and SetHook end
// subscriptions mid-stream, FailAppends fails appends before or after
// writing, Race makes appends lose a race with another writer, Stop takes the
// server away. Subscriptions records what each
// subscriber asked for, so a test can check where a resubscription started.
//
// # What it reproduces
//
// Streams.Append with the expected-revision checks and the server's
// idempotence after an exact revision or NoStream (the same IDs right after
// the expected revision → success without writing; some of them →
// WrongExpectedVersion); Any and StreamExists appends, with an idempotence
// check over the whole stream where the real server only looks at recent
// writes; counted reads of a stream and of $all forwards and backwards
// (StreamNotFound, inclusive forward and exclusive backward positions);
// catch-up subscriptions to $all with the confirmation, stream-name or
// event-type filters by prefix or regex, checkpoints every
// window×multiplier scanned events, caught-up on reaching the end, then
// live events; positions with Commit ≠ Prepare (one commit position per
// append, one prepare position per event) and server-owned $ streams in
// $all; TLS and HTTP Basic credentials on demand (a refused login is
// Unauthenticated); plus the faults above.
//
// Only a real server shows: durability, replication and quorum
// acknowledgement; clusters, gossip discovery, leader elections and
// not-leader redirects; user accounts, ACLs and X.509 user certificates;
// the idempotence cache's limits with Any; soft deletion, $maxAge/$maxCount,
// the real scavenge's chunk rules (it keeps the newest chunk); link events and projections; the
// server's page sizes, its own checkpoint timing and fell-behind/too-slow
// drops; its message-size limits; and the timing of real network failures.
// The eventstore/esdb tests run against one as well when
// MEETINGD_TEST_KURRENTDB holds its connection string.
package esdbtest
