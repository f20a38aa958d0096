// Package intake turns one CometChat webhook body into a durable fact: it
// decodes and validates the payload, derives the content-based event ID, and
// appends the event to its session's stream — or, for a CometChat-shaped
// payload that cannot be used, to the quarantine stream with the reason.
//
// A session holds at most Config.MaxSessionIntervals intervals (API.md
// "Limits"): a webhook that would add more is quarantined naming the limit
// (sessions.go: the session's interval keys, cached, and an append on
// condition of the stream revision they were read at, exact across replicas).
//
// The HTTP handler (api, through its own narrow api.Ingester) and `meetingd
// import` both go through Service.Ingest, so a webhook is treated the same
// whichever way it arrives. The package knows no HTTP: it imports the
// domain and the event store's contract only.
package intake
