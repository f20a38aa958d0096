// Package projections folds the event log into read models: it holds the
// runner (checkpointing, batching, rebuild from zero) and, in
// projections/readmodel, the embedded read models.
//
// The Runner subscribes to every session stream from its checkpoint (catch-up,
// then live), folds each session's events into its domain.Facts, and in
// batches — by size and by age, one timer per batch — hands the changed
// sessions' Meetings to every Sink (ClickHouse, when configured) and then
// commits them, with their fold state and the new checkpoint, to the
// StateStore in one atomic write. The checkpoint therefore advances only after
// every sink has acknowledged the batch; after a crash the batch is folded and
// written again, which the idempotent sinks absorb. Rebuild drops every read
// model and folds the log again from the start.
//
// With Config.Opener (privacy/envelope), every decoded event's sealed names
// are opened before the fold: the plaintext, or the subject's pseudonym once
// its key is erased, so a rebuild after an erasure pseudonymises by itself
// and every count and duration stays the same.
//
// Exclusive runs a rewrite of the read models (an erasure) between two
// batches and then drops the cached fold state.
//
// What the read models answer is not defined here: the read contract — the
// report-store interface, its queries, cursors and errors, and the suite that
// every store passes — is package reports (reports/reportstest). The embedded
// read models implement it, as does the ClickHouse store in clickhouse/.
// This package imports neither HTTP nor ClickHouse.
package projections
