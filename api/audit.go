package api

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/intake"
)

// EventReader reads streams of the event log.
type EventReader interface {
	ReadStream(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error]
}

const (
	defaultLimit = 100
	maxLimit     = 1000
)

type storedEvent struct {
	EventID    string              `json:"event_id"`
	Type       string              `json:"type"`
	Revision   uint64              `json:"revision"`
	Position   eventstore.Position `json:"position"`
	RecordedAt time.Time           `json:"recorded_at"`
	Data       json.RawMessage     `json:"data"`
	Metadata   json.RawMessage     `json:"metadata,omitempty"`
}

// sessionParam returns the unescaped :sessionId path parameter.
func sessionParam(c *fiber.Ctx) (string, error) {
	// The same checks as the reports: a session id that the intake would
	// never store (separators, control characters, too long) is a 400.
	return parsePathID("sessionId", param(c, "sessionId"), true)
}

// pageParams reads ?limit= and a numeric ?cursor=.
func pageParams(c *fiber.Ctx) (limit int, cursor uint64, err error) {
	limit = defaultLimit
	if v := query(c, "limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			return 0, 0, badParam("limit", "must be a whole number from 1 to %d", maxLimit)
		}
		limit = n
	}
	if v := query(c, "cursor"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, 0, badParam("cursor", "not a cursor this server gave out")
		}
		cursor = n
	}
	return limit, cursor, nil
}

// events serves a session's stored events in stream order: the audit trail.
func (s *Server) events(c *fiber.Ctx) error {
	app, err := appScope(c, true)
	if err != nil {
		return err
	}
	session, err := sessionParam(c)
	if err != nil {
		return err
	}
	limit, from, err := pageParams(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.QueryTimeout)
	defer cancel()
	out := make([]storedEvent, 0, min(limit, 16))
	var next *string
	for ev, err := range s.deps.Events.ReadStream(ctx, domain.StreamName(app, session), from) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return httpError(fiber.StatusNotFound, "no events for session %q of app %q", session, app)
		}
		if err != nil {
			return err
		}
		if len(out) == limit {
			n := strconv.FormatUint(ev.Revision, 10)
			next = &n
			break
		}
		out = append(out, storedEvent{
			EventID: ev.ID.String(), Type: ev.Type, Revision: ev.Revision, Position: ev.Position,
			RecordedAt: ev.RecordedAt.UTC(), Data: json.RawMessage(ev.Data), Metadata: rawOrNil(ev.Metadata),
		})
	}
	return c.JSON(fiber.Map{"app_id": app, "session_id": session, "events": out, "next_cursor": next})
}

type quarantined struct {
	EventID string `json:"event_id"`
	intake.QuarantineRecord
}

// quarantine lists quarantined payloads, oldest first, a page at a time
// (?limit=, ?cursor= a revision of the stream): those of the token's app, or
// for a * token those of the app named by ?app_id=, or without it those
// whose appId was missing or invalid. Each app's records are a stream of
// their own, so one app's flood costs another nothing.
func (s *Server) quarantine(c *fiber.Ctx) error {
	app, err := appScope(c, false)
	if err != nil {
		return err
	}
	limit, from, err := pageParams(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.QueryTimeout)
	defer cancel()
	out := make([]quarantined, 0, min(limit, 16))
	var next *string
	for ev, err := range s.deps.Events.ReadStream(ctx, domain.QuarantineStream(app), from) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			break
		}
		if err != nil {
			return err
		}
		if len(out) == limit {
			n := strconv.FormatUint(ev.Revision, 10)
			next = &n
			break
		}
		var rec intake.QuarantineRecord
		err = json.Unmarshal(ev.Data, &rec)
		if err == nil {
			err = rec.Expand()
		}
		if err != nil {
			s.log.Error("undecodable quarantine record", "event_id", ev.ID, "error", err)
			continue
		}
		out = append(out, quarantined{EventID: ev.ID.String(), QuarantineRecord: rec})
	}
	return c.JSON(fiber.Map{"items": out, "next_cursor": next})
}

func rawOrNil(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return json.RawMessage(b)
}
