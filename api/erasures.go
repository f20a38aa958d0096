package api

import (
	"context"
	"encoding/json"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/meetingd/meetingd/erasure"
)

// ErasureService takes erasure requests and answers their state
// (erasure.Service). Safe for concurrent use; ctx bounds each call. Errors:
// *erasure.InvalidError naming the bad value, erasure.ErrNotFound for an
// erasure not of the app.
type ErasureService interface {
	Request(ctx context.Context, app, participant, requestedBy string) (erasure.Erasure, error)
	Get(ctx context.Context, app, id string) (erasure.Erasure, error)
}

// maxErasureBody bounds a POST /v1/erasures body.
const maxErasureBody = 4 << 10

// erasureAnswer is the JSON of an erasure (API.md): the participant is the
// pseudonym, never the identity.
type erasureAnswer struct {
	ID          string   `json:"id"`
	Participant string   `json:"participant"`
	Status      string   `json:"status"`
	Sessions    []string `json:"sessions"`
	RequestedBy string   `json:"requested_by"`
	RequestedAt string   `json:"requested_at"`
	DoneAt      *string  `json:"done_at"`
}

func erasureOut(e erasure.Erasure) erasureAnswer {
	out := erasureAnswer{ID: e.ID, Participant: e.Participant, Status: e.Status, Sessions: e.Sessions,
		RequestedBy: e.RequestedBy, RequestedAt: e.RequestedAt.UTC().Format(time.RFC3339)}
	if out.Sessions == nil {
		out.Sessions = []string{}
	}
	if e.DoneAt != nil {
		s := e.DoneAt.UTC().Format(time.RFC3339)
		out.DoneAt = &s
	}
	return out
}

// mountErasures registers POST /v1/erasures and GET /v1/erasures/{id}.
func (s *Server) mountErasures(v1 fiber.Router) {
	svc := s.deps.Erasures
	v1.Post("/erasures", func(c *fiber.Ctx) error {
		app, err := appScope(c, true)
		if err != nil {
			return err
		}
		body, err := readBody(c)
		if err != nil {
			return err
		}
		if len(body) > maxErasureBody {
			return badParam("body", "larger than %d bytes", maxErasureBody)
		}
		var req struct {
			Participant *string `json:"participant"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return badParam("body", "want a JSON object {\"participant\"}")
		}
		if req.Participant == nil {
			return badParam("participant", "required")
		}
		scope, _ := c.Locals(localScope).(string)
		ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.QueryTimeout)
		defer cancel()
		e, err := svc.Request(ctx, app, *req.Participant, "api token of app "+scope)
		if err != nil {
			return err
		}
		out := erasureOut(e)
		return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"id": out.ID, "status": out.Status})
	})
	v1.Get("/erasures/:id", func(c *fiber.Ctx) error {
		app, err := appScope(c, true)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.QueryTimeout)
		defer cancel()
		e, err := svc.Get(ctx, app, param(c, "id"))
		if err != nil {
			return err
		}
		return c.JSON(erasureOut(e))
	})
}
