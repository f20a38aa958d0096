// Package plans is the application service of attendance plans (API.md
// "Attendance plans, rosters and series"): it decodes a plan strictly (an
// unknown, duplicated or mistyped field is refused, naming it), validates
// every field (domain.PlanSet.Validate), and appends it as a
// domain.PlanSet event to the session's own stream, on condition of the
// stream's revision, which the event carries: the fold keeps the plan with
// the greatest revision, so the plan latest in the log wins (docs/adr/0020).
// It also reads the current plan back from the stream.
//
// Errors: a plan that breaks a rule is a *domain.PlanError (Field, Reason);
// no plan is ErrNoPlan; anything else is the event store's, wrapped. The
// HTTP layer (PUT/GET /v1/meetings/{id}/plan) and `meetingd import` both go
// through Service. The package knows no HTTP; it imports the domain, the
// codec and the event store's contract only. A Service is safe for
// concurrent use.
package plans
