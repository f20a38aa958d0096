package api

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/meetingd/meetingd/api/intake"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
)

// Ingester stores one webhook body durably (see intake.Service).
type Ingester interface {
	Ingest(ctx context.Context, body []byte, source string) (intake.Result, error)
}

// appendTimeout bounds one webhook's append. CometChat waits about 2 s and
// retries; an append that outlives it is still stored and deduplicated then.
const appendTimeout = 15 * time.Second

type webhookAnswer struct {
	Status    string `json:"status"`
	EventID   string `json:"event_id,omitempty"`
	Duplicate *bool  `json:"duplicate,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

func (s *Server) webhook(c *fiber.Ctx) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(c.UserContext(), appendTimeout)
	defer cancel()
	body, err := readBody(c)
	if err != nil {
		s.metrics.webhook("", "too_large")
		return err
	}
	res, err := s.deps.Intake.Ingest(ctx, body, "http")
	s.metrics.appendSeconds.Observe(time.Since(start).Seconds())
	if err != nil {
		s.metrics.webhook(peekTrigger(body), outcomeOf(err))
		return err
	}
	s.metrics.webhook(res.Trigger, string(res.Outcome))
	switch res.Outcome {
	case intake.Quarantined:
		return c.Status(fiber.StatusAccepted).JSON(webhookAnswer{Status: "quarantined", Reason: res.Reason, EventID: res.EventID.String()})
	default:
		c.Response().SetBodyRaw(acceptedAnswer(res.EventID, res.Outcome == intake.Duplicate))
		c.Response().Header.SetContentType(fiber.MIMEApplicationJSON)
		return nil
	}
}

// acceptedAnswer is the JSON of webhookAnswer{Status: "accepted", EventID: id,
// Duplicate: &dup}, written directly (it is every 200's body).
func acceptedAnswer(id uuid.UUID, dup bool) []byte {
	const head = `{"status":"accepted","event_id":"`
	b := make([]byte, 0, len(head)+36+len(`","duplicate":false}`))
	b = append(b, head...)
	var text [36]byte // uuid's canonical form, as id.String writes it
	hex.Encode(text[0:8], id[0:4])
	text[8] = '-'
	hex.Encode(text[9:13], id[4:6])
	text[13] = '-'
	hex.Encode(text[14:18], id[6:8])
	text[18] = '-'
	hex.Encode(text[19:23], id[8:10])
	text[23] = '-'
	hex.Encode(text[24:], id[10:])
	b = append(b, text[:]...)
	if dup {
		return append(b, `","duplicate":true}`...)
	}
	return append(b, `","duplicate":false}`...)
}

func outcomeOf(err error) string {
	switch {
	case errors.Is(err, domain.ErrMalformed):
		return "rejected"
	case errors.Is(err, intake.ErrTooLarge):
		return "too_large"
	case errors.Is(err, eventstore.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return "unavailable"
	}
	return "error"
}

// peekTrigger reads the trigger of a body that failed, for the metric label.
func peekTrigger(body []byte) domain.Trigger {
	var head struct {
		Trigger string `json:"trigger"`
	}
	_ = json.Unmarshal(body, &head)
	return domain.Trigger(head.Trigger)
}

// maxDrain bounds how much of an oversized body is read and discarded so that
// the client can read the 413; past it the connection is closed.
const maxDrain = 16 << 20

// readBody reads the request body up to BodyLimit. A larger body is drained
// (up to maxDrain) and answered 413.
func readBody(c *fiber.Ctx) ([]byte, error) {
	stream := c.Context().RequestBodyStream()
	if stream == nil {
		return c.Body(), nil
	}
	body, err := io.ReadAll(io.LimitReader(stream, BodyLimit+1))
	if err != nil {
		return nil, &Error{Status: fiber.StatusBadRequest, Message: "reading the body failed", Err: err}
	}
	if len(body) > BodyLimit {
		if n, _ := io.Copy(io.Discard, io.LimitReader(stream, maxDrain)); n == maxDrain {
			c.Context().SetConnectionClose()
		}
		return nil, &Error{Status: fiber.StatusRequestEntityTooLarge, Message: "body exceeds the limit of 1 MiB"}
	}
	return body, nil
}
