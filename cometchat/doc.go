// Package cometchat is the only package that knows CometChat's wire format:
// the calls webhooks (Decoder, the trigger names) and the answers of the
// Calls REST API (DecodeCall, DecodePage). It turns them into the
// provider-neutral events and values of package domain; the HTTP client of
// the REST API is its sub-package callsapi.
//
// One set of tolerant rules reads CometChat's loose typing in both: a number
// may be a JSON number or a numeric string in decimal notation ("1696937627"
// and 1696937627; never "0x1p30", "Inf" or "NaN"), a boolean a JSON boolean
// or its spelling ("false" and false, "0", "no"), and a Unix time must be
// whole seconds, positive and below 1e11 (a larger value is milliseconds).
// The Calls API's 0 is "not yet"; a webhook's required time must be set.
//
// Webhooks: Decode accepts a body or says why not. An error wrapping
// ErrMalformed means the body is not a CometChat webhook at all; a
// *ValidationError (errors.As) names the field of a CometChat-shaped payload
// that cannot be used, for the intake to quarantine it. Keys match exactly as
// CometChat spells them and a key sent twice takes its last value, at every
// level. Identifiers follow domain.CheckID's rules. The trigger is carried as
// the event's opaque domain.Trigger; the ringing triggers map to the domain's
// ringing steps (domain.RingBusy, …).
//
// Calls REST API: every error wraps ErrDecode, naming the refused field; the
// reconciliation then skips that call (its run counts the error) and never
// guesses a value.
//
// Decoder and the Decode functions are safe for concurrent use and keep no
// reference to the body they read.
package cometchat
