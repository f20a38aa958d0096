package reports

import (
	"context"
	"time"

	"github.com/meetingd/meetingd/domain"
)

// Store answers the /v1 report queries: it is what a report store
// implements and what the HTTP layer reads.
//
// Every query is scoped to one app: an empty AppID is ErrInvalidQuery.
// Every method first normalises its query with the query's Normalize (or
// the key with SessionKey.Validate) and returns that error, wrapped, when the
// query is one the contract does not define. Zero From/To leave that side of
// a range open; a range whose From is not before its To is empty, not
// invalid.
//
// Implementations are safe for concurrent use by any number of goroutines,
// also while their read models are being written. Every method honours ctx:
// it returns ctx's error, wrapped, once ctx is done, and never keeps ctx
// after it returns. Errors are wrapped with %w: errors.Is finds ErrNotFound,
// ErrBadCursor and ErrInvalidQuery (errors.As a *QueryError) through them;
// any other error is the store's own failure (I/O, a cancelled ctx). A Store
// has no Close of its own: whoever opened it closes it.
type Store interface {
	// Meeting returns a meeting with its participants, or ErrNotFound.
	Meeting(ctx context.Context, key SessionKey) (domain.Meeting, error)
	// Meetings lists meetings newest first (started_at, then session id, descending).
	Meetings(ctx context.Context, q MeetingQuery) (MeetingPage, error)
	// ParticipantAttendance reports one participant across meetings, a
	// page at a time, with the totals of the whole range.
	ParticipantAttendance(ctx context.Context, q ParticipantQuery) (ParticipantReport, error)
	// Durations aggregates ended and abandoned meetings into buckets; empty
	// buckets are omitted; buckets are in ascending order; an unknown Bucket
	// is ErrInvalidQuery. unique_participants counts the distinct identities
	// of the participants rows of the bucket's meetings.
	Durations(ctx context.Context, q DurationQuery) ([]DurationBucket, error)
	// Usage sums the audio and video seconds and billable minutes of ended
	// and abandoned meetings into buckets of q.Location; empty buckets are
	// omitted; buckets are in ascending order. participants counts the
	// distinct identities of the bucket's meetings' rows.
	Usage(ctx context.Context, q UsageQuery) ([]UsageBucket, error)
	// Series reports the sessions of one series (series.go): ErrNotFound
	// when no session's current plan names it. Sessions whose plan moved
	// to another series are no longer in it.
	Series(ctx context.Context, q SeriesQuery) (SeriesReport, error)
}

// SessionKey identifies a session across apps.
type SessionKey struct {
	AppID     string
	SessionID string
}

// Validate checks a key of Meeting: an empty AppID is a *QueryError for
// "app".
func (k SessionKey) Validate() error {
	if k.AppID == "" {
		return errNoApp()
	}
	return nil
}

// MeetingPage is one page of meetings, newest first.
type MeetingPage struct {
	// Meetings carry no participants: Participants and UnmatchedParticipants
	// are nil (the rows are served by Meeting). Never nil.
	Meetings []domain.Meeting
	// NextCursor is "" on the last page: a page that is followed by a cursor
	// is never followed by an empty page.
	NextCursor string
}

// ParticipantMeeting is one meeting of a participant's attendance report.
type ParticipantMeeting struct {
	SessionID       string    `json:"session_id"`
	StartedAt       time.Time `json:"started_at"`
	AttendedSeconds int64     `json:"attended_seconds"`
	AttendanceRatio float64   `json:"attendance_ratio"`
	JoinCount       int       `json:"join_count"`
}

// ParticipantReport is one page of a participant's attendance across
// meetings of any status in which they have an attendance row, newest first
// (started_at, then session id, descending). Meetings is never nil. The
// totals cover the query's whole range, whatever the page.
type ParticipantReport struct {
	Participant          string               `json:"participant"`
	Meetings             []ParticipantMeeting `json:"meetings"`
	TotalAttendedSeconds int64                `json:"total_attended_seconds"`
	MeetingsAttended     int                  `json:"meetings_attended"`
	// NextCursor is "" on the last page; a page followed by a cursor is
	// never followed by an empty page.
	NextCursor string `json:"-"`
}

// DurationBucket aggregates the meetings that started in one bucket.
type DurationBucket struct {
	// Start is in the query's Location.
	Start                time.Time `json:"start"`
	Meetings             int64     `json:"meetings"`
	TotalDurationSeconds int64     `json:"total_duration_seconds"`
	AvgDurationSeconds   float64   `json:"avg_duration_seconds"`
	MaxDurationSeconds   int64     `json:"max_duration_seconds"`
	UniqueParticipants   int64     `json:"unique_participants"`
	AttendanceSeconds    int64     `json:"attendance_seconds"`
}
