package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"syscall"

	"github.com/gofiber/fiber/v2"

	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/erasure"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/intake"
	"github.com/meetingd/meetingd/notify"
	"github.com/meetingd/meetingd/plans"
	"github.com/meetingd/meetingd/reports"
)

// Error is an error with the HTTP status it should be answered with.
type Error struct {
	Status  int
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// badParam is a 400 naming the offending query or path parameter.
func badParam(name, format string, args ...any) error {
	return &Error{Status: fiber.StatusBadRequest, Message: name + ": " + fmt.Sprintf(format, args...)}
}

func httpError(status int, format string, args ...any) error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// statusOf maps an error to its HTTP status and the message the client sees.
// Internal errors are not echoed to clients.
func statusOf(err error) (int, string) {
	var apiErr *Error
	var fe *fiber.Error
	var queryErr *reports.QueryError
	var notifyErr *notify.InvalidError
	var planErr *domain.PlanError
	var erasureErr *erasure.InvalidError
	switch {
	case errors.As(err, &erasureErr):
		return fiber.StatusBadRequest, erasureErr.Error()
	case errors.Is(err, erasure.ErrNotFound):
		return fiber.StatusNotFound, "not found"
	case errors.As(err, &planErr):
		// A plan field that breaks a rule (plans.Decode, PlanSet.Validate).
		return fiber.StatusBadRequest, planErr.Error()
	case errors.Is(err, plans.ErrNoPlan):
		return fiber.StatusNotFound, "no plan for this session"
	case errors.As(err, &apiErr):
		return apiErr.Status, apiErr.Error()
	case errors.Is(err, cometchat.ErrMalformed):
		return fiber.StatusBadRequest, err.Error()
	case errors.Is(err, intake.ErrForeignApp):
		// The message names the body's app id and the credential's app,
		// never the credential.
		return fiber.StatusForbidden, err.Error()
	case errors.Is(err, intake.ErrTooLarge):
		return fiber.StatusRequestEntityTooLarge, "the payload is too large for the event store even compressed: nothing was stored"
	case errors.As(err, &notifyErr):
		return fiber.StatusBadRequest, notifyErr.Error()
	case errors.Is(err, notify.ErrNotOwner):
		return fiber.StatusServiceUnavailable, "notifications are delivered by another replica (MEETINGD_NOTIFY): ask it"
	case errors.Is(err, eventstore.ErrStreamNotFound), errors.Is(err, reports.ErrNotFound), errors.Is(err, notify.ErrNotFound):
		return fiber.StatusNotFound, "not found"
	case errors.Is(err, eventstore.ErrConcurrency), errors.Is(err, eventstore.ErrPartialDuplicate):
		// Another writer changed the stream first: the client may read and retry.
		return fiber.StatusConflict, "conflict: the stream changed meanwhile, nothing was stored; read it and retry"
	case errors.Is(err, eventstore.ErrInvalidEvent):
		// What the request asked to store is beyond what the store takes
		// (the intake quarantines such webhooks before this can happen).
		return fiber.StatusUnprocessableEntity, "the event store refused the event: nothing was stored"
	case errors.Is(err, reports.ErrBadCursor):
		return fiber.StatusBadRequest, "cursor: not a cursor this server gave out"
	case errors.As(err, &queryErr):
		// An invalid query (reports.ErrInvalidQuery), named like badParam's.
		return fiber.StatusBadRequest, queryErr.Param + ": " + queryErr.Reason
	case errors.Is(err, syscall.ENOSPC):
		return fiber.StatusServiceUnavailable, "event store out of disk space: nothing was stored, retry later"
	case errors.Is(err, eventstore.ErrUnavailable), errors.Is(err, eventstore.ErrClosed):
		return fiber.StatusServiceUnavailable, "storage unavailable, retry later"
	case errors.Is(err, context.DeadlineExceeded):
		return fiber.StatusServiceUnavailable, "timed out, retry later"
	case errors.As(err, &fe):
		msg := fe.Message
		if fe.Code == fiber.StatusRequestEntityTooLarge {
			msg = "body exceeds the limit of 1 MiB"
		}
		return fe.Code, msg
	}
	return fiber.StatusInternalServerError, "internal error"
}

// errorHandler is the one place where errors become HTTP answers.
func errorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		status, msg := statusOf(err)
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		log.Log(c.UserContext(), level, "request failed",
			"status", status, "method", c.Method(), "path", c.Path(),
			"request_id", requestID(c), "error", err.Error())
		return c.Status(status).JSON(fiber.Map{"error": msg})
	}
}
