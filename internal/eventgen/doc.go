// Package eventgen generates realistic, reproducible session event logs for
// the projection and serve benchmarks: many concurrent meetings and calls
// whose events (starts, joins and leaves with rejoins, ends with
// all_occupants, ringing, recordings, transcripts) arrive interleaved in
// webhook order, with a little delivery jitter, as the intake would have
// stored them (same event ids, stream names, types and metadata). Fill
// appends a generated log to an event store in large concurrent batches, so
// that a million-event log takes seconds.
//
// The same Config always generates the same events. The package is
// benchmark and test tooling: it writes already-decoded events straight into
// an event store. It is not internal/corpus, which generates CometChat
// webhook bodies, with their independently computed expected reports, for
// the end-to-end test and cmd/loadgen.
package eventgen
