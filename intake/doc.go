// Package intake turns one CometChat webhook body into a durable fact: it
// decodes and validates the payload, derives the content-based event ID, and
// appends the event to its session's stream — or, for a CometChat-shaped
// payload that cannot be used, to the quarantine stream with the reason.
//
// A session holds at most Config.MaxSessionIntervals intervals (API.md
// "Limits"): a webhook that would add more is quarantined naming the limit,
// exactly, across replicas and restarts. sessions.go caches each session's
// interval keys with the stream revision they are known to; a webhook that
// adds none is appended without condition, and those that add some are
// appended on condition of that revision (an append that loses a race with
// another writer reads what it missed and checks again). combine.go appends
// the interval-adding webhooks of one session that wait at the same time in
// one conditional append, checked together in order (docs/adr/0019).
//
// With Config.Sealer (privacy/envelope), every name and identity of an event
// and every quarantined body is sealed under its data subject's key before
// it is stored, and the ids an identity determines are keyed hashes
// (PRIVACY.md); the interval keys are read back through it.
//
// The HTTP handler (api, through its own narrow api.Ingester) and `meetingd
// import` both go through Service.Ingest, so a webhook is treated the same
// whichever way it arrives. The package knows no HTTP: it imports the
// domain and the event store's contract only.
//
// Forget drops the cached interval keys of every session (an erasure).
package intake
