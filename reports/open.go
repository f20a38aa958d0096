package reports

import (
	"time"

	"github.com/meetingd/meetingd/domain"
)

// OpenMeeting is a meeting without a known end (status live or abandoned),
// as the open-meeting index of a read-model store lists it. The scheduled
// jobs use it to find candidates without scanning every meeting; they decide
// on the event log itself, so the index may lag behind it.
//
// The index is not part of Store: the embedded read models serve it
// (projections/readmodel's OpenMeetings), and its consumers declare the
// interface they need.
type OpenMeeting struct {
	Key    SessionKey
	Status domain.Status
	// LastEventAt is the meeting's newest CometChat timestamp (domain.Meeting.LastEventAt).
	LastEventAt time.Time
}

// OpenQuery selects open meetings of one status, of every app, whose
// LastEventAt lies in [From, To), oldest first (LastEventAt, then app, then
// session id). Zero From/To leave that side open.
type OpenQuery struct {
	// Status is domain.StatusLive or domain.StatusAbandoned (anything else is
	// ErrInvalidQuery).
	Status   domain.Status
	From, To time.Time
	// After continues a previous page: the result starts strictly after this
	// meeting in the order above. Nil starts at From.
	After *OpenMeeting
	// Limit is the page size (1..MaxLimit; 0 means DefaultLimit).
	Limit int
}

// Normalize returns q as the index reads it: Limit clamped into
// 1..MaxLimit (DefaultLimit for 0 or less) and Status one of domain's
// constants. A Status other than live or abandoned is a *QueryError.
// Normalize is idempotent.
func (q OpenQuery) Normalize() (OpenQuery, error) {
	switch q.Status {
	case domain.StatusLive:
		q.Status = domain.StatusLive
	case domain.StatusAbandoned:
		q.Status = domain.StatusAbandoned
	default:
		return q, &QueryError{Param: "status", Value: string(q.Status), Reason: "must be live or abandoned"}
	}
	q.Limit = pageLimit(q.Limit)
	return q, nil
}
