package notify

import (
	"context"
	"encoding/base64"
	"fmt"
)

// MaxDeliveriesPage bounds a page of the delivery log.
const MaxDeliveriesPage = 1000

// Deliveries returns one page of sub's delivery log, newest first, of
// status ("" : all). The caller has checked that sub is its app's.
func (n *Notifier) Deliveries(ctx context.Context, sub, status string, limit int, cursor string) (DeliveryPage, error) {
	if err := ctx.Err(); err != nil {
		return DeliveryPage{}, err
	}
	switch status {
	case "", StatusPending, StatusDelivered, StatusFailed:
	default:
		return DeliveryPage{}, invalid("status", "want pending, delivered or failed")
	}
	if limit < 1 || limit > MaxDeliveriesPage {
		return DeliveryPage{}, invalid("limit", "want 1 to %d", MaxDeliveriesPage)
	}
	var from []byte
	if cursor != "" {
		b, err := base64.RawURLEncoding.Strict().DecodeString(cursor)
		if err != nil || len(b) == 0 {
			return DeliveryPage{}, errBadCursor
		}
		from = b
	}
	ds, next, err := n.deps.Store.list(sub, status, limit, from)
	if err != nil {
		return DeliveryPage{}, fmt.Errorf("notify: deliveries of %s: %w", sub, err)
	}
	page := DeliveryPage{Deliveries: ds}
	if page.Deliveries == nil {
		page.Deliveries = []Delivery{}
	}
	if next != nil {
		c := base64.RawURLEncoding.EncodeToString(next)
		page.NextCursor = &c
	}
	return page, nil
}

// Retry puts a delivery of sub back in the queue, due now, with a fresh
// retry window; it is sent with its webhook-id.
func (n *Notifier) Retry(ctx context.Context, sub, id string) (Delivery, error) {
	if err := ctx.Err(); err != nil {
		return Delivery{}, err
	}
	d, err := n.deps.Store.retry(sub, id, n.cfg.Clock.Now())
	if err != nil {
		return Delivery{}, err
	}
	n.disp.wake(sub)
	return d, nil
}
