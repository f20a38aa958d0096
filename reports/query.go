package reports

import (
	"strings"
	"time"

	"github.com/meetingd/meetingd/domain"
)

// Page sizes of the paged queries.
const (
	// DefaultLimit is the page size of a query whose Limit is 0 or less.
	DefaultLimit = 100
	// MaxLimit is the largest page size; larger Limits are lowered to it.
	MaxLimit = 1000
)

// pageLimit is the page size of a query's Limit: DefaultLimit for 0 or
// less, at most MaxLimit. The one clamp: every Normalize calls it.
func pageLimit(limit int) int {
	switch {
	case limit <= 0:
		return DefaultLimit
	case limit > MaxLimit:
		return MaxLimit
	}
	return limit
}

// MeetingQuery selects meetings for the meeting list.
type MeetingQuery struct {
	AppID string
	// From and To bound started_at: [From, To). Zero values leave the side open.
	From, To time.Time
	// Status filters by status when not empty (live, ended or abandoned;
	// anything else is ErrInvalidQuery).
	Status domain.Status
	// Participant keeps meetings this participant attended (has an attendance
	// row in), when not empty.
	Participant string
	// Limit is the page size (1..MaxLimit; 0 means DefaultLimit).
	Limit int
	// Cursor continues a previous page ("" for the first); it must come from
	// the same query's previous page, or the result is ErrBadCursor or a page
	// of that other query.
	Cursor string
}

// Normalize returns q as every store reads it: Limit clamped into
// 1..MaxLimit (DefaultLimit for 0 or less) and Status one of domain's
// constants (a string of its own, whatever memory q.Status was in). A query
// without an AppID or with an unknown Status is a *QueryError. Normalize is
// idempotent.
func (q MeetingQuery) Normalize() (MeetingQuery, error) {
	if q.AppID == "" {
		return q, errNoApp()
	}
	var err error
	if q.Status, err = status(q.Status); err != nil {
		return q, err
	}
	q.Limit = pageLimit(q.Limit)
	return q, nil
}

// status returns s as one of domain's constants, or a *QueryError; "" is
// every status.
func status(s domain.Status) (domain.Status, error) {
	switch s {
	case "":
		return "", nil
	case domain.StatusLive:
		return domain.StatusLive, nil
	case domain.StatusEnded:
		return domain.StatusEnded, nil
	case domain.StatusAbandoned:
		return domain.StatusAbandoned, nil
	}
	return "", &QueryError{Param: "status", Value: string(s), Reason: "must be live, ended or abandoned"}
}

// ParticipantQuery selects one participant's meetings by started_at in
// [From, To), one page at a time.
type ParticipantQuery struct {
	AppID, Participant string
	From, To           time.Time
	// Limit is the page size (1..MaxLimit; 0 means DefaultLimit).
	Limit int
	// Cursor continues a previous page ("" for the first), as MeetingQuery's:
	// a Cursor of the meeting list, continuing strictly after its
	// (StartedUnix, SessionID) in the list order. A cursor of another query
	// gives a page of this one from that place; a mangled one is ErrBadCursor.
	Cursor string
}

// Normalize returns q as every store reads it: Limit clamped into
// 1..MaxLimit (DefaultLimit for 0 or less). A query without an AppID is a
// *QueryError. Normalize is idempotent.
func (q ParticipantQuery) Normalize() (ParticipantQuery, error) {
	if q.AppID == "" {
		return q, errNoApp()
	}
	q.Limit = pageLimit(q.Limit)
	return q, nil
}

// Bucket is the width of a report's buckets, in the query's Location
// (BucketStart states each width's local rule).
type Bucket string

const (
	Hour Bucket = "hour"
	Day  Bucket = "day"
	Week Bucket = "week" // ISO weeks: from Monday 00:00 local
)

// DurationQuery selects ended and abandoned meetings by started_at in [From, To).
type DurationQuery struct {
	AppID    string
	From, To time.Time
	// Bucket is Hour, Day, Week or Month; anything else, "" included, is
	// ErrInvalidQuery.
	Bucket Bucket
	// Location is the zone of the buckets; nil is UTC.
	Location *time.Location
}

// Normalize returns q as every store reads it: Bucket one of the package's
// constants (a string of its own, whatever memory q.Bucket was in) and
// Location never nil. A query without an AppID or with a Bucket other than
// Hour, Day, Week or Month is a *QueryError. Normalize is idempotent.
func (q DurationQuery) Normalize() (DurationQuery, error) {
	if q.AppID == "" {
		return q, errNoApp()
	}
	var err error
	if q.Bucket, err = bucketOf(q.Bucket, Hour, Day, Week, Month); err != nil {
		return q, err
	}
	q.Location = locationOf(q.Location)
	return q, nil
}

// bucketOf returns the constant among allowed that equals b (a string of its
// own, whatever memory b was in), or a *QueryError for "bucket" naming them.
func bucketOf(b Bucket, allowed ...Bucket) (Bucket, error) {
	names := make([]string, len(allowed))
	for i, a := range allowed {
		if b == a {
			return a, nil
		}
		names[i] = string(a)
	}
	reason := "must be " + strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	return b, &QueryError{Param: "bucket", Value: string(b), Reason: reason}
}

// locationOf is loc, UTC when nil.
func locationOf(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}
