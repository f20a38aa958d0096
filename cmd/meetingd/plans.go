package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/api"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/plans"
)

// newPlanRoutes wires the plan endpoints (PUT/GET /v1/meetings/{id}/plan)
// over the event log.
func newPlanRoutes(log plans.Log, reg prometheus.Registerer, sl *slog.Logger) (*api.PlanRoutes, error) {
	svc, err := plans.New(plans.Config{}, log, sl)
	if err != nil {
		return nil, err
	}
	return api.NewPlanRoutes(svc, reg)
}

// planSetter stores one plan (plans.Service).
type planSetter interface {
	Set(ctx context.Context, app, session string, p domain.PlanSet) (plans.Stored, error)
}

// planLine is a line of an import file that carries a plan rather than a
// webhook: {"session_id", "app_id", "plan": {…the PUT body…}}. A line is a
// plan line when it is a JSON object with a "plan" member; every other line
// is a webhook (README "Importing a term's timetable").
type planLine struct {
	SessionID string          `json:"session_id"`
	AppID     string          `json:"app_id"`
	Plan      json.RawMessage `json:"plan"`
}

// asPlanLine reports whether body is a plan line, and reads it.
func asPlanLine(body []byte) (planLine, bool) {
	var l planLine
	if err := json.Unmarshal(body, &l); err != nil || l.Plan == nil {
		return planLine{}, false
	}
	return l, true
}

// errBadPlanLine marks a plan line refused (the summary's "rejected").
var errBadPlanLine = errors.New("plan line refused")

// importPlan stores a plan line: the ids checked as the API checks them,
// the plan decoded strictly and validated. It returns an error wrapping
// errBadPlanLine for a line to reject, any other error for a store failure.
func importPlan(ctx context.Context, svc planSetter, l planLine) (plans.Stored, error) {
	for _, id := range []struct{ name, v string }{{"app_id", l.AppID}, {"session_id", l.SessionID}} {
		if id.v == "" {
			return plans.Stored{}, fmt.Errorf("%w: %s: required", errBadPlanLine, id.name)
		}
		if reason := domain.CheckID(id.v, domain.StreamIDRules); reason != "" {
			return plans.Stored{}, fmt.Errorf("%w: %s: %s", errBadPlanLine, id.name, reason)
		}
	}
	p, err := plans.Decode(l.Plan)
	if err != nil {
		return plans.Stored{}, fmt.Errorf("%w: plan.%w", errBadPlanLine, err)
	}
	st, err := svc.Set(ctx, l.AppID, l.SessionID, p)
	var perr *domain.PlanError
	if errors.As(err, &perr) {
		return st, fmt.Errorf("%w: plan.%w", errBadPlanLine, err)
	}
	return st, err
}
