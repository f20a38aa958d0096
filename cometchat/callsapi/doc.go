// Package callsapi is a client of CometChat's Calls REST API, as much of it
// as the reconciliation job needs: GET /calls/{sessionId} and
// GET /calls?status=ongoing on https://{appId}.call-{region}.cometchat.io/v3,
// authenticated by the app's REST API key in the apikey header. The answers
// are decoded by package cometchat (DecodeCall, DecodePage), with the same
// tolerant rules as the webhooks; a session the API does not know is
// cometchat.ErrNotFound, an answer it cannot read wraps cometchat.ErrDecode.
//
// It is a package of its own so that the webhook decoder, which the intake
// and many tests use, does not bring an HTTP client, a rate limiter and
// Prometheus along.
//
// One Client serves one app and is safe for concurrent use. Its requests wait
// for a token bucket (golang.org/x/time/rate) so that meetingd never exceeds
// the configured rate towards an app, and are retried with exponential
// backoff on 429, 5xx and transport errors, honouring Retry-After. Every
// method takes ctx first and stops when it is done.
//
// ParseApps reads the MEETINGD_COMETCHAT_APPS setting (app id, region and API
// key, or a file holding the key, per app). API keys never appear in errors,
// logs or String output.
package callsapi
