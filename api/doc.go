// Package api is meetingd's HTTP surface on fiber: the CometChat webhook
// intake, the /v1 report and audit endpoints, the attendance plans (PUT/GET
// /v1/meetings/{id}/plan, through a PlanStore) and the series gradebook,
// health, readiness and metrics. Unknown (zero) times are null in answers.
//
// Every handler returns errors; one error handler (errors.go) maps them to an
// HTTP status and a JSON body {"error": "…"} and logs each once. Webhooks are
// authenticated with HTTP Basic credentials compared in constant time; /v1 with
// bearer tokens, each scoped to one CometChat app (or to every app). The
// bucketed reports (durations, usage) take an IANA zone (?tz=); the usage
// report prices billable minutes with package billing.
package api
