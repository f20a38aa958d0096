// Package reports is the read contract: what a report store must answer, and
// how. A report store implements Store; the embedded read models
// (projections/readmodel) and ClickHouse (clickhouse) are the two, and the
// HTTP layer reads either through Store alone.
//
// Queries. MeetingQuery, ParticipantQuery and DurationQuery (and OpenQuery,
// the open-meeting index's) each have one Normalize, the only place where
// defaults apply and parameters are checked: the page size is clamped into
// 1..MaxLimit (DefaultLimit for 0 or less), Status and Bucket become the
// package's or domain's constants, and a query the contract does not define
// (no app id, an unknown status or bucket) is a *QueryError that names the
// parameter and wraps ErrInvalidQuery. A store calls Normalize before it
// reads; a caller may call it earlier to fail fast. Ranges are half-open,
// [From, To) on started_at, in whole seconds; a zero side is open, and an
// inverted range is empty, not invalid.
//
// Pages. Lists are newest first, by started_at and then session id, both
// descending. A page that has a successor carries NextCursor, an opaque
// Cursor encoding shared by every store, so that the next page continues
// strictly after the last row whatever store serves it; a page followed by
// a cursor is never followed by an empty page. ParseCursor refuses what no
// store gave out with ErrBadCursor.
//
// Series. Series reports the gradebook of a series of planned sessions;
// every store keeps SeriesRows per session by series and builds the answer
// with BuildSeries, so that the rules are stated once. Scheduled sessions (a
// plan, no provider event) are in series reports only, and absent roster
// rows count in no participant report, list filter or duration bucket.
//
// Errors. ErrNotFound, ErrBadCursor and ErrInvalidQuery are the sentinels a
// caller may act on (the API maps them to 404 and 400); stores wrap them with
// %w. Any other error is the store's own failure.
//
// Conformance. reports/reportstest is the suite that every Store passes
// unchanged, fed through a projections.Sink: the same batches into each
// store must give the same answers, byte for byte once encoded as JSON.
package reports
