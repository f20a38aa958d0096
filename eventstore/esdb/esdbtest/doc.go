// Package esdbtest is an in-process EventStoreDB for tests: a gRPC server,
// built on the Streams service interface generated in the official client
// module (protos/streams), that keeps its log in memory and implements the
// subset of the protocol that eventstore/esdb uses: Streams.Append with
// expected revisions and the server's idempotence, Streams.Read for counted
// reads of a stream or of $all, and catch-up subscriptions to $all with
// filters, confirmation, checkpoints and caught-up messages. The client's
// other calls (server features, gossip, deletes, persistent subscriptions)
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
// What it reproduces and what only a real server shows is listed in the
// documentation of eventstore/esdb.
package esdbtest
