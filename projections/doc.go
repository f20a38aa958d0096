// Package projections folds the event log into read models.
//
// The Runner subscribes to every session stream from its checkpoint (catch-up,
// then live), folds each session's events into its domain.Facts, and in
// batches — by size and by age, one timer per batch — hands the changed
// sessions' Meetings to every Sink (ClickHouse, when configured) and then
// commits them, with their fold state and the new checkpoint, to the
// StateStore in one atomic write. The checkpoint therefore advances only after
// every sink has acknowledged the batch; after a crash the batch is folded and
// written again, which the idempotent sinks absorb.
//
// The report contract — the queries behind /v1 — is Reports, with one shared
// test suite (projections/reportstest) that every implementation passes: the
// embedded one in projections/readmodel and the ClickHouse one in clickhouse/.
package projections
