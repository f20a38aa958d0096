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

	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/intake"
)

// Ingester stores one webhook body durably (see intake.Service).
type Ingester interface {
	Ingest(ctx context.Context, body []byte, source string) (intake.Result, error)
	// IngestFor refuses (intake.ErrForeignApp) a body whose appId is not
	// app, before storing anything; app "" is Ingest.
	IngestFor(ctx context.Context, app string, body []byte, source string) (intake.Result, error)
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
	app, _ := c.Locals(localWebhookApp).(string) // "" : credentials of every app, or none (development)
	res, err := s.deps.Intake.IngestFor(ctx, app, body, "http")
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
	case errors.Is(err, cometchat.ErrMalformed):
		return "rejected"
	case errors.Is(err, intake.ErrForeignApp):
		return "forbidden"
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

// readBody reads the request body up to BodyLimit, allocating no more than
// about the body: once for a declared length, doubling up to BodyLimit+1 for
// a chunked one. A larger body (declared or read) is drained (up to
// maxDrain) and answered 413.
func readBody(c *fiber.Ctx) ([]byte, error) {
	stream := c.Context().RequestBodyStream()
	if stream == nil {
		return c.Body(), nil
	}
	// The stream is read to its end here (or the connection closed):
	// finishBody must not read it again (a chunked stream read past its end
	// waits for the next request's bytes).
	c.Locals(localBodyRead, true)
	tooLarge := func() error {
		if n, _ := io.Copy(io.Discard, io.LimitReader(stream, maxDrain)); n == maxDrain {
			c.Context().SetConnectionClose()
		}
		return &Error{Status: fiber.StatusRequestEntityTooLarge, Message: "body exceeds the limit of 1 MiB"}
	}
	var body []byte
	var err error
	switch n := c.Request().Header.ContentLength(); {
	case n > BodyLimit:
		return nil, tooLarge()
	case n >= 0:
		body = make([]byte, n)
		_, err = io.ReadFull(stream, body)
	default: // chunked
		body, err = readUpTo(stream, BodyLimit)
	}
	if err != nil {
		return nil, &Error{Status: fiber.StatusBadRequest, Message: "reading the body failed", Err: err}
	}
	if len(body) > BodyLimit {
		return nil, tooLarge()
	}
	return body, nil
}

// readUpTo reads r to its end, or to limit bytes and then one more if
// there is one, doubling its buffer from 4 KiB up to limit (io.ReadAll grows
// by a quarter: several times the body in all).
func readUpTo(r io.Reader, limit int) ([]byte, error) {
	b := make([]byte, 0, min(4<<10, limit))
	for {
		if len(b) == limit {
			var one [1]byte
			n, err := io.ReadFull(r, one[:])
			if n == 1 {
				return append(b, one[0]), nil // past the limit: the caller refuses it
			}
			if errors.Is(err, io.EOF) {
				return b, nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			b = append(make([]byte, 0, min(2*cap(b), limit)), b...)
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if errors.Is(err, io.EOF) {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

const localBodyRead = "meetingd.bodyRead"

// maxUnreadBody is how much of a body that its handler left unread (a
// request refused before its body mattered, a body sent to a GET) is read
// and discarded to keep the connection; past it the connection is closed.
const maxUnreadBody = 64 << 10

// finishBody makes sure that no byte of a request's body is ever read as
// the next request on its connection: with StreamRequestBody, fasthttp
// parses whatever the handler left unread as the next request (a body of a
// refused POST could carry a second request, which a proxy in front would
// not have checked). The rest of the body is discarded, up to
// maxUnreadBody; a longer one closes the connection after the answer.
func finishBody(c *fiber.Ctx) error {
	err := c.Next()
	if read, _ := c.Locals(localBodyRead).(bool); read {
		return err
	}
	if stream := c.Context().RequestBodyStream(); stream != nil {
		n, rerr := io.Copy(io.Discard, io.LimitReader(stream, maxUnreadBody+1))
		if n > maxUnreadBody || rerr != nil {
			c.Context().SetConnectionClose()
		}
	}
	return err
}
