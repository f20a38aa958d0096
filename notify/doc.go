// Package notify pushes final meeting reports to the customer: signed
// outgoing webhooks per the Standard Webhooks specification, never lost.
//
// Subscriptions are events of their app's stream (SubscriptionStream:
// "subscriptions-<app>", subscription.created.v1 and subscription.deleted.v1);
// Subscriptions reads and appends that stream directly, so an answer always
// reflects the log. The secret (whsec_<base64 of 32 random bytes>) is in the
// created event and shown once, by Create.
//
// The Notifier is a projection of the log with its own checkpoint, kept in
// its own bbolt file beside the read models (Store). It follows every
// session stream and every subscription stream; for each session it keeps
// the log time (RecordedAt) of its newest event and the SHA-256 of the last
// report it notified. Once the clock (Config.Clock, injected) passes that
// time plus Config.FinalAfter, and the read models have folded the
// session's newest event, it reads the meeting (MeetingSource) and, when
// the status is ended or abandoned and the report (Config.Render, the
// GET /v1/meetings/{id} answer) differs from the last one notified, owes
// meeting.final (nothing notified before) or meeting.revised to each of the
// app's subscriptions that was created before the meeting went quiet and
// asked for that type (an app without subscriptions has its sessions leave
// the due index unread). Decisions are taken only once the projection has
// caught up with the head of the log as of its start, so a restart never
// mistakes a backlog for quiet.
//
// A decision and the deliveries it owes are written in one transaction,
// with the session's state; the checkpoint is written with the state its
// events produced. A crash at any instant therefore neither loses a
// notification (the due index survives) nor repeats a decision (the hash).
// A delivery's id is its webhook-id, the same on every attempt; a delivery
// whose attempt was cut short by a crash is attempted again with that id.
// For the same reason a failure of the notifier's store or of the log (a
// full disk, a lost connection) never ends Run, nor the service with it:
// the notifier starts again from its checkpoint after a backoff.
//
// Delivery: each subscription (endpoint) has a lane of at most
// Config.PerEndpoint attempts in flight, and all lanes share
// Config.MaxInFlight, so a slow endpoint holds only its own slots. A 2xx
// within Config.Timeout delivers; anything else is attempted again after
// RetryMin·2^(n-1) (capped at RetryMax) with ±20 % jitter, until RetryFor
// has passed since the first attempt, then the delivery is failed
// (dead-lettered). Retry puts any delivery back in the queue. Results are
// written in groups by one committer.
//
// SSRF: URLPolicy admits https:// only and no loopback, link-local,
// private, unspecified, multicast or CGNAT address, at creation (every
// address the host resolves to) and at delivery (a net.Dialer Control hook
// checks the address actually dialled, which catches DNS rebinding), unless
// AllowHTTP / AllowPrivate say otherwise. Redirects are not followed and
// proxies from the environment are not used.
//
// One deliverer: the Notifier runs in the replica configured to own
// notifications (MEETINGD_NOTIFY=on, the default; docs/adr/0021). With the
// embedded log there is one process; with KurrentDB, exactly one replica
// runs with it on. No leader election.
//
// Erasure: RewriteBodies pseudonymises the stored bodies of sessions'
// deliveries and Scrub zeroes the file's free pages (docs/adr/0024).
// Retention: DeleteSessions removes sessions' state and deliveries.
package notify
