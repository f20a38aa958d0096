package projections

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
)

// ErrNotFound is returned for a meeting that no read model holds.
var ErrNotFound = errors.New("projections: not found")

// ErrBadCursor is returned for a page cursor that the store did not give out.
var ErrBadCursor = errors.New("projections: invalid cursor")

// ErrInvalidQuery is returned for a query without an app id, or with a status
// or bucket that the contract does not define.
var ErrInvalidQuery = errors.New("projections: invalid query")

// Page sizes of the meeting list.
const (
	// DefaultLimit is the page size of a MeetingQuery whose Limit is 0 or less.
	DefaultLimit = 100
	// MaxLimit is the largest page size; larger Limits are lowered to it.
	MaxLimit = 1000
)

// PageLimit is the page size of a query's Limit: DefaultLimit for 0 or
// less, at most MaxLimit.
func PageLimit(limit int) int {
	switch {
	case limit <= 0:
		return DefaultLimit
	case limit > MaxLimit:
		return MaxLimit
	}
	return limit
}

// SessionKey identifies a session across apps.
type SessionKey struct {
	AppID     string
	SessionID string
}

// SessionUpdate is the new state of one changed session.
type SessionUpdate struct {
	Key SessionKey
	// Facts is the session's fold state, to continue folding from.
	Facts *domain.Facts
	// Meeting is derived from Facts.
	Meeting domain.Meeting
}

// Checkpoint is how far the read models have folded the log.
type Checkpoint struct {
	// Position is the position of the last event folded (Start: none).
	Position eventstore.Position `json:"position"`
	// Events counts the session events folded so far (for the lag).
	Events uint64 `json:"events"`
	// Log is the identity of the log folded (see Runner), empty when the
	// log has none or the checkpoint predates it.
	Log string `json:"log,omitempty"`
}

// Batch is what one flush of the runner writes.
type Batch struct {
	// Sessions are the sessions changed by the batch, each once.
	Sessions []SessionUpdate
	// Checkpoint is the checkpoint after the batch.
	Checkpoint Checkpoint
	// Version orders writes of the same session: it grows with the log position
	// (ClickHouse keeps the row with the greatest version).
	Version uint64
}

// Sink receives batches of changed read models.
//
// Write must be idempotent: writing a batch again, or an older version of a
// session after a newer one, must leave the newer state. It is called by one
// goroutine at a time and returns only when the batch is durable. Reset drops
// every read model (for rebuild).
type Sink interface {
	Write(ctx context.Context, b Batch) error
	Reset(ctx context.Context) error
}

// StateStore is the runner's primary sink: it also keeps every session's fold
// state and the checkpoint, written atomically with the read models.
type StateStore interface {
	Sink
	// Checkpoint returns the checkpoint of the last committed batch.
	Checkpoint(ctx context.Context) (Checkpoint, error)
	// LoadFacts returns the stored fold state of the given sessions; sessions
	// with none are absent from the map.
	LoadFacts(ctx context.Context, keys []SessionKey) (map[SessionKey]*domain.Facts, error)
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

// MeetingPage is one page of meetings, newest first.
type MeetingPage struct {
	// Meetings carry no participants: Participants and UnmatchedParticipants
	// are nil (the rows are served by Meeting). Never nil.
	Meetings []domain.Meeting
	// NextCursor is "" on the last page: a page that is followed by a cursor
	// is never followed by an empty page.
	NextCursor string
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
	Bucket   Bucket
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

// Reports answers the /v1 report queries. Every query is scoped to one app
// (an empty AppID is ErrInvalidQuery); zero From/To leave that side open.
//
// Implementations are safe for concurrent use; every method honours ctx.
type Reports interface {
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
