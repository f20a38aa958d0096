package reports

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/meetingd/meetingd/domain"
)

// ErrNotFound is returned for a meeting that no read model holds.
var ErrNotFound = errors.New("reports: not found")

// ErrBadCursor is returned for a page cursor that no store gave out.
var ErrBadCursor = errors.New("reports: invalid cursor")

// ErrInvalidQuery is returned for a query that the contract does not define:
// without an app id, or with a status or bucket it does not know. The error
// is a *QueryError naming the parameter.
var ErrInvalidQuery = errors.New("reports: invalid query")

// QueryError is an invalid query: Param names the offending parameter (app,
// status or bucket), Value is what it was, Reason what it must be. It wraps
// ErrInvalidQuery. Param and Reason never carry the value, so that they can
// be shown to a client as "Param: Reason".
type QueryError struct {
	Param, Value, Reason string
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("%v: %s %q: %s", ErrInvalidQuery, e.Param, e.Value, e.Reason)
}

// Unwrap returns ErrInvalidQuery.
func (e *QueryError) Unwrap() error { return ErrInvalidQuery }

// errNoApp is the error of a query without an app id.
func errNoApp() error { return &QueryError{Param: "app", Reason: "required"} }

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

// Bucket is the width of a duration report's buckets, in UTC.
type Bucket string

const (
	Hour Bucket = "hour"
	Day  Bucket = "day"
	Week Bucket = "week" // weeks start on Monday 00:00 UTC
)

// DurationQuery selects ended and abandoned meetings by started_at in [From, To).
type DurationQuery struct {
	AppID    string
	From, To time.Time
	// Bucket is Hour, Day or Week; anything else, "" included, is
	// ErrInvalidQuery.
	Bucket Bucket
}

// Normalize returns q as every store reads it: Bucket one of the package's
// constants (a string of its own, whatever memory q.Bucket was in). A query
// without an AppID or with a Bucket other than Hour, Day or Week is a
// *QueryError. Normalize is idempotent.
func (q DurationQuery) Normalize() (DurationQuery, error) {
	if q.AppID == "" {
		return q, errNoApp()
	}
	switch q.Bucket {
	case Hour:
		q.Bucket = Hour
	case Day:
		q.Bucket = Day
	case Week:
		q.Bucket = Week
	default:
		return q, &QueryError{Param: "bucket", Value: string(q.Bucket), Reason: "must be hour, day or week"}
	}
	return q, nil
}

// Cursor is where a meeting page ends: its last meeting. Implementations
// share this encoding, so that a page continues strictly after
// (StartedUnix, SessionID) in the list order whatever store serves it.
type Cursor struct {
	// StartedUnix is the last meeting's started_at in Unix seconds (0 when unknown).
	StartedUnix int64
	SessionID   string
}

// cursorFormat versions the encoding below.
const cursorFormat = 1

// String encodes c, opaque and URL-safe: base64url of format(1) started(8)
// session crc32(4). The checksum turns a mangled cursor into ErrBadCursor
// rather than a silent jump.
func (c Cursor) String() string {
	b := make([]byte, 0, 1+8+len(c.SessionID)+4)
	b = append(b, cursorFormat)
	b = binary.BigEndian.AppendUint64(b, uint64(c.StartedUnix))
	b = append(b, c.SessionID...)
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseCursor decodes a cursor made by Cursor.String, or returns ErrBadCursor.
// The base64 is decoded strictly: the unused low bits of the last character
// must be zero, or two spellings would name the same cursor.
func ParseCursor(s string) (Cursor, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) < 1+8+4 || b[0] != cursorFormat {
		return Cursor{}, fmt.Errorf("cursor %q: %w", s, ErrBadCursor)
	}
	body, sum := b[:len(b)-4], b[len(b)-4:]
	if crc32.ChecksumIEEE(body) != binary.BigEndian.Uint32(sum) {
		return Cursor{}, fmt.Errorf("cursor %q: %w", s, ErrBadCursor)
	}
	return Cursor{StartedUnix: int64(binary.BigEndian.Uint64(body[1:])), SessionID: string(body[9:])}, nil
}

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
	Start                time.Time `json:"start"`
	Meetings             int64     `json:"meetings"`
	TotalDurationSeconds int64     `json:"total_duration_seconds"`
	AvgDurationSeconds   float64   `json:"avg_duration_seconds"`
	MaxDurationSeconds   int64     `json:"max_duration_seconds"`
	UniqueParticipants   int64     `json:"unique_participants"`
	AttendanceSeconds    int64     `json:"attendance_seconds"`
}
