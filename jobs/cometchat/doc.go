// Package cometchat is a client of CometChat's Calls REST API, as much of it
// as the reconciliation job needs: GET /calls/{sessionId} and
// GET /calls?status=ongoing on https://{appId}.call-{region}.cometchat.io/v3,
// authenticated by the app's REST API key in the apikey header.
//
// One Client serves one app. Its requests wait for a token bucket
// (golang.org/x/time/rate) so that meetingd never exceeds the configured rate
// towards an app, and are retried with exponential backoff on 429, 5xx and
// transport errors, honouring Retry-After. The decoder is tolerant like the
// webhook decoder: numbers may arrive as JSON numbers or numeric strings,
// booleans as JSON booleans or strings; Unix times must be seconds.
//
// ParseApps reads the MEETINGD_COMETCHAT_APPS setting (app id, region and API
// key, or a file holding the key, per app). API keys never appear in errors,
// logs or String output.
package cometchat
