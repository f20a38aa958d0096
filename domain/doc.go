// Package domain is meetingd's provider-neutral model: the typed events
// stored in the log (with stable, versioned type names), the content-based
// dedupe key and event ID, the stream names, the rules for identifiers, and
// the pure fold from a session's events to its Facts and the derived Meeting.
//
// It knows no provider's wire format: package cometchat decodes CometChat's
// webhooks and Calls REST API answers into these events. What the provider
// calls a notification is carried as an opaque Trigger, stored and keyed,
// never interpreted; where the fold needs a meaning (the steps of a ringing
// call), the domain names it (RingInitiated, RingBusy, …).
//
// Attendance plans (plan.go, verdict.go): a PlanSet event carries the
// organiser's schedule, roster, series and thresholds, and the stream
// revision it was appended at; the fold keeps the plan with the greatest
// revision (the latest in the log) and Meeting derives every verdict from it
// and the intervals at read time (docs/adr/0020).
//
// Guarantees: folding any permutation of a session's events, with
// duplicates, gives the same Meeting (each interval's audio/video medium
// included: the flags of all its reports are or-ed, media.go); Key and EventID of an event never
// change (they are stored in the log); the stored forms of events and facts
// are byte-stable.
//
// It imports nothing from infrastructure; time is injected by callers. The
// stored byte forms of its events, facts and meetings live in package codec.
package domain
