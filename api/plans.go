package api

import (
	"context"
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/plans"
)

// PlanStore stores and reads attendance plans (plans.Service). Safe for
// concurrent use; honours ctx.
type PlanStore interface {
	Set(ctx context.Context, app, session string, p domain.PlanSet) (plans.Stored, error)
	Get(ctx context.Context, app, session string) (plans.Stored, error)
}

// PlanRoutes serves PUT and GET /v1/meetings/{sessionId}/plan. It
// implements ReportRoutes (Deps.Plans).
type PlanRoutes struct {
	store PlanStore
	puts  *prometheus.CounterVec
}

// NewPlanRoutes returns the plan endpoints over store, counting the PUTs by
// outcome (accepted, invalid, failed) in meetingd_plans_total.
func NewPlanRoutes(store PlanStore, reg prometheus.Registerer) (*PlanRoutes, error) {
	if store == nil || reg == nil {
		return nil, errors.New("api: plan routes need a PlanStore and a Registerer")
	}
	puts := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "meetingd_plans_total",
		Help: "Attendance plans PUT, by outcome (accepted, invalid, failed).",
	}, []string{"outcome"})
	if err := reg.Register(puts); err != nil {
		return nil, fmt.Errorf("api: plan metrics: %w", err)
	}
	return &PlanRoutes{store: store, puts: puts}, nil
}

// Mount registers the endpoints on the authenticated /v1 group.
func (r *PlanRoutes) Mount(v1 fiber.Router) {
	v1.Put("/meetings/:sessionId/plan", r.put)
	v1.Get("/meetings/:sessionId/plan", r.get)
}

type planAccepted struct {
	Status  string `json:"status"`
	EventID string `json:"event_id"`
}

func (r *PlanRoutes) put(c *fiber.Ctx) error {
	key, err := sessionKey(c)
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	p, err := plans.Decode(body)
	if err != nil {
		r.puts.WithLabelValues("invalid").Inc()
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), queryTimeout)
	defer cancel()
	st, err := r.store.Set(ctx, key.AppID, key.SessionID, p)
	if err != nil {
		var perr *domain.PlanError
		if errors.As(err, &perr) {
			r.puts.WithLabelValues("invalid").Inc()
		} else {
			r.puts.WithLabelValues("failed").Inc()
		}
		return err
	}
	r.puts.WithLabelValues("accepted").Inc()
	return c.JSON(planAccepted{Status: "accepted", EventID: st.EventID.String()})
}

// planAnswer is GET's answer: the plan as PUT takes it, with where it is.
type planAnswer struct {
	SessionID string `json:"session_id"`
	EventID   string `json:"event_id"`
	Revision  uint64 `json:"revision"`
	plans.Body
}

func (r *PlanRoutes) get(c *fiber.Ctx) error {
	key, err := sessionKey(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), queryTimeout)
	defer cancel()
	st, err := r.store.Get(ctx, key.AppID, key.SessionID)
	if err != nil {
		return err
	}
	return c.JSON(planAnswer{SessionID: key.SessionID, EventID: st.EventID.String(), Revision: st.Plan.Revision,
		Body: plans.BodyOf(st.Plan)})
}
