// Package domain holds meetingd's business model: CometChat's calls-webhook
// payloads and their tolerant decoding, the typed events stored in the log
// (with stable, versioned type names), the content-based dedupe key and event
// ID, and the pure fold from a session's events to the Meeting read model.
//
// It imports nothing from infrastructure; time is injected by callers. The
// stored byte forms of its events, facts and meetings live in package codec.
package domain
