package projections

import (
	"time"

	"github.com/meetingd/meetingd/domain"
)

// OpenMeeting is a meeting without a known end (status live or abandoned),
// as the open-meeting index of a read-model store lists it. The scheduled
// jobs use it to find candidates without scanning every meeting; they decide
// on the event log itself, so the index may lag behind it.
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
