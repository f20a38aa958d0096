package api

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/notify"
)

// SubscriptionService keeps an app's subscriptions (notify.Subscriptions).
// Safe for concurrent use; ctx bounds each call. Errors: notify.ErrNotFound
// for a subscription not of the app, *notify.InvalidError naming the bad
// value.
type SubscriptionService interface {
	Create(ctx context.Context, app, url string, events []string) (notify.Subscription, error)
	List(ctx context.Context, app string) ([]notify.Subscription, error)
	Get(ctx context.Context, app, id string) (notify.Subscription, error)
	Delete(ctx context.Context, app, id string) error
}

// DeliveryLog lists a subscription's deliveries and sends one again
// (notify.Notifier). The caller has checked the subscription is the app's.
type DeliveryLog interface {
	Deliveries(ctx context.Context, sub, status string, limit int, cursor string) (notify.DeliveryPage, error)
	Retry(ctx context.Context, sub, id string) (notify.Delivery, error)
}

// MeetingAnswer is the GET /v1/meetings/{sessionId} answer for m: what a
// notification's data holds.
func MeetingAnswer(m domain.Meeting) any { return meetingOut(m, true) }

// maxSubscriptionBody bounds a POST /v1/subscriptions body.
const maxSubscriptionBody = 16 << 10

type subscriptionRequest struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

// mountSubscriptions registers the /v1/subscriptions endpoints. A nil
// DeliveryLog (a replica that does not deliver) answers the delivery
// endpoints 503.
func (s *Server) mountSubscriptions(v1 fiber.Router) {
	subs, log := s.deps.Subscriptions, s.deps.Deliveries
	v1.Post("/subscriptions", func(c *fiber.Ctx) error {
		app, err := appScope(c, true)
		if err != nil {
			return err
		}
		body, err := readBody(c)
		if err != nil {
			return err
		}
		if len(body) > maxSubscriptionBody {
			return badParam("body", "larger than %d bytes", maxSubscriptionBody)
		}
		var req subscriptionRequest
		if err := json.Unmarshal(body, &req); err != nil {
			return badParam("body", "want a JSON object {\"url\", \"events\"}")
		}
		ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.QueryTimeout)
		defer cancel()
		sub, err := subs.Create(ctx, app, req.URL, req.Events)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(sub)
	})
	v1.Get("/subscriptions", func(c *fiber.Ctx) error {
		app, err := appScope(c, true)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.QueryTimeout)
		defer cancel()
		list, err := subs.List(ctx, app)
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"subscriptions": list})
	})
	v1.Delete("/subscriptions/:id", func(c *fiber.Ctx) error {
		app, err := appScope(c, true)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.QueryTimeout)
		defer cancel()
		if err := subs.Delete(ctx, app, param(c, "id")); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
	// ownSub checks that :id is an active subscription of the token's app.
	ownSub := func(c *fiber.Ctx) (string, context.Context, context.CancelFunc, error) {
		app, err := appScope(c, true)
		if err != nil {
			return "", nil, nil, err
		}
		if log == nil {
			return "", nil, nil, notify.ErrNotOwner
		}
		ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.QueryTimeout)
		sub, err := subs.Get(ctx, app, param(c, "id"))
		if err != nil {
			cancel()
			return "", nil, nil, err
		}
		return sub.ID, ctx, cancel, nil
	}
	v1.Get("/subscriptions/:id/deliveries", func(c *fiber.Ctx) error {
		limit := 100
		if v := query(c, "limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > notify.MaxDeliveriesPage {
				return badParam("limit", "must be a whole number from 1 to %d", notify.MaxDeliveriesPage)
			}
			limit = n
		}
		sub, ctx, cancel, err := ownSub(c)
		if err != nil {
			return err
		}
		defer cancel()
		page, err := log.Deliveries(ctx, sub, query(c, "status"), limit, query(c, "cursor"))
		if err != nil {
			return err
		}
		return c.JSON(page)
	})
	v1.Post("/subscriptions/:id/deliveries/:deliveryId/retry", func(c *fiber.Ctx) error {
		sub, ctx, cancel, err := ownSub(c)
		if err != nil {
			return err
		}
		defer cancel()
		d, err := log.Retry(ctx, sub, param(c, "deliveryId"))
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusAccepted).JSON(d)
	})
}
