// Package eventstore defines the append-only event log that meetingd is built on:
// the Store contract, its sentinel errors and the value types that cross it.
//
// Every CometChat session has one stream. Events are immutable once appended;
// each carries a caller-chosen, deterministic ID so that an append repeated
// after a crash or a webhook retry is recognised as a duplicate instead of being
// stored twice. A global Position orders every event across all streams, and
// subscriptions deliver events in that order, first catching up from a position
// and then following new appends live.
//
// Stores that can delete whole streams (retention) implement StreamDeleter;
// a deleted stream's id may start again as new data.
//
// Implementations live in sub-packages (embedded for the default local log,
// esdb for EventStoreDB/KurrentDB) and must all pass the shared suite in
// eventstore/storetest.
package eventstore
