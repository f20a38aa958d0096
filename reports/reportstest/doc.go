// Package reportstest is the contract test suite of reports.Store fed
// through a projections.Sink. Every report store — the embedded one in
// projections/readmodel and the ClickHouse one — passes it unchanged, which
// is what makes their reports identical.
//
// The suite builds realistic sessions as domain events, folds them with the
// domain fold into domain.Facts and domain.Meeting, writes them in batches
// (with re-writes, older versions after newer ones, and sessions whose
// started_at moves), and checks every query against its own straightforward
// computation over the meetings it expects the store to hold.
package reportstest
