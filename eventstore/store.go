package eventstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/google/uuid"
)

// Sentinel errors. Implementations wrap them (fmt.Errorf("…: %w", ErrX)) so that
// callers test with errors.Is.
var (
	// ErrConcurrency means the stream's revision did not match the expected one.
	ErrConcurrency = errors.New("eventstore: wrong expected revision")
	// ErrPartialDuplicate means some, but not all, of the appended event IDs were
	// already stored: the append is rejected whole.
	ErrPartialDuplicate = errors.New("eventstore: some events of the append already exist")
	// ErrStreamNotFound is returned by ReadStream for a stream with no events.
	ErrStreamNotFound = errors.New("eventstore: stream not found")
	// ErrInvalidEvent means an event lacks an ID or a type, an ID repeats within
	// one append, the append has no events, or the stream name is empty (or
	// otherwise unacceptable to the implementation). Nothing was written.
	ErrInvalidEvent = errors.New("eventstore: invalid event")
	// ErrUnavailable means the store cannot serve the call now (disk full, server
	// unreachable, closed); the call may succeed later. Nothing was written.
	ErrUnavailable = errors.New("eventstore: unavailable")
	// ErrClosed is returned by calls made after Close.
	ErrClosed = errors.New("eventstore: closed")
)

// Event is an event to append.
type Event struct {
	// ID identifies the event; appending an ID that the stream already holds is a
	// duplicate and stores nothing. Callers derive it from the content.
	ID uuid.UUID
	// Type is the stable, versioned event type name (e.g. "session.started.v1").
	Type string
	// Data is the JSON payload.
	Data []byte
	// Metadata is JSON about the event's delivery (webhook id, receive time).
	Metadata []byte
}

// RecordedEvent is an event as stored.
type RecordedEvent struct {
	Event
	// Stream is the name of the stream the event belongs to.
	Stream string
	// Revision is the event's 0-based index within its stream.
	Revision uint64
	// Position is the event's place in the global order.
	Position Position
	// RecordedAt is when the store wrote the event.
	RecordedAt time.Time
}

// Position is a place in the global order of all events. The zero Position is
// before the first event. Implementations with a single sequence number set
// Commit and Prepare to the same value.
type Position struct {
	Commit  uint64 `json:"commit"`
	Prepare uint64 `json:"prepare"`
}

// Start is the position before every event.
var Start = Position{}

// Compare returns -1, 0 or +1 as p is before, equal to or after q.
func (p Position) Compare(q Position) int {
	switch {
	case p.Commit < q.Commit:
		return -1
	case p.Commit > q.Commit:
		return 1
	case p.Prepare < q.Prepare:
		return -1
	case p.Prepare > q.Prepare:
		return 1
	}
	return 0
}

// IsZero reports whether p is Start.
func (p Position) IsZero() bool { return p == Start }

func (p Position) String() string { return fmt.Sprintf("%d/%d", p.Commit, p.Prepare) }

// ExpectedRevision states what the caller believes about a stream before an append.
type ExpectedRevision struct {
	kind     expectKind
	revision uint64
}

type expectKind uint8

const (
	expectAny expectKind = iota
	expectNoStream
	expectStreamExists
	expectExact
)

var (
	// Any appends whatever the stream's state.
	Any = ExpectedRevision{kind: expectAny}
	// NoStream appends only if the stream has no events.
	NoStream = ExpectedRevision{kind: expectNoStream}
	// StreamExists appends only if the stream has at least one event.
	StreamExists = ExpectedRevision{kind: expectStreamExists}
)

// Exact appends only if the stream's last event has revision r.
func Exact(r uint64) ExpectedRevision { return ExpectedRevision{kind: expectExact, revision: r} }

// Check reports whether a stream whose state is (exists, last) satisfies e.
func (e ExpectedRevision) Check(exists bool, last uint64) bool {
	switch e.kind {
	case expectNoStream:
		return !exists
	case expectStreamExists:
		return exists
	case expectExact:
		return exists && last == e.revision
	}
	return true
}

func (e ExpectedRevision) String() string {
	switch e.kind {
	case expectNoStream:
		return "no stream"
	case expectStreamExists:
		return "stream exists"
	case expectExact:
		return fmt.Sprintf("revision %d", e.revision)
	}
	return "any"
}

// AppendResult describes a successful append.
type AppendResult struct {
	// Duplicate is true when every event ID was already stored in the stream:
	// nothing was written and the other fields describe the stored copies'
	// stream state as of now.
	Duplicate bool
	// NextRevision is the revision of the stream's last event after the append.
	NextRevision uint64
	// Position is the global position of the last event written (or, for a
	// duplicate, of the last stored copy).
	Position Position
}

// Stats summarises the log.
type Stats struct {
	// Events is the number of events stored (in streams whose name has the
	// requested prefix, for stores that filter).
	Events uint64
	// Head is the position of the newest event, or Start when empty.
	Head Position
}

// Store is the append-only event log.
//
// All methods are safe for concurrent use. Every method takes ctx first and
// returns promptly with ctx.Err() (wrapped) when ctx is done. Append returns
// only once the events are durable (fsynced, or acknowledged by a cluster
// quorum). After Close every method returns ErrClosed (iterators yield it as
// their only item) and live subscriptions end by yielding ErrClosed; Close
// waits for appends in flight to finish, and calling it again returns nil.
// Iterators stop without yielding again when the consumer breaks out of the
// range loop, and they yield at most one error, as their last item.
//
// eventstore/storetest is the executable form of this contract.
type Store interface {
	// Append atomically appends events to stream if expected holds. Appending
	// event IDs that the stream already holds (all of them) is not an error: the
	// result has Duplicate set, whatever expected says. When only some IDs are
	// present it fails with ErrPartialDuplicate; when expected does not hold,
	// with ErrConcurrency.
	Append(ctx context.Context, stream string, expected ExpectedRevision, events ...Event) (AppendResult, error)

	// ReadStream yields the stream's events from revision from on, in revision
	// order. A stream with no events yields a single ErrStreamNotFound.
	ReadStream(ctx context.Context, stream string, from uint64) iter.Seq2[RecordedEvent, error]

	// ReadAll yields every event whose position is after from, in global order,
	// and ends when it reaches the newest event at the time of the call.
	ReadAll(ctx context.Context, from Position, filter Filter) iter.Seq2[RecordedEvent, error]

	// SubscribeAll yields every event after from, in global order: first those
	// already stored (catch-up), then new ones as they are appended (live),
	// without gap or repetition across the hand-over. It never yields an event
	// while an event before it may still be uncommitted. It ends only when ctx
	// is done (yielding the ctx error last) or on failure (yielding the error).
	SubscribeAll(ctx context.Context, from Position, filter Filter) iter.Seq2[RecordedEvent, error]

	// Stats returns the count of events and the head position of the log,
	// restricted to filter.
	Stats(ctx context.Context, filter Filter) (Stats, error)

	// Close releases the store; see the type comment.
	Close() error
}

// Filter selects events by their stream name prefix; the zero Filter selects all.
type Filter struct {
	StreamPrefixes []string
}

// Match reports whether stream passes f.
func (f Filter) Match(stream string) bool {
	if len(f.StreamPrefixes) == 0 {
		return true
	}
	for _, p := range f.StreamPrefixes {
		if len(stream) >= len(p) && stream[:len(p)] == p {
			return true
		}
	}
	return false
}

// StreamDeleter is implemented by stores that can delete whole streams
// (retention, API.md "Privacy: erasure and retention"). DeleteStreams
// deletes every event of each stream: afterwards ReadStream yields
// ErrStreamNotFound, and an append to the
// stream (NoStream or Any) starts it again as new data, whose revisions
// may continue after the deleted ones (KurrentDB) or restart at 0
// (embedded). Deleting a stream that does not exist is not an error, so a
// deletion repeated after a crash is harmless. Whether ReadAll and Stats
// still see the deleted events until the store reclaims them is the
// store's (embedded: never; KurrentDB: until a scavenge); eventstore/storetest
// checks the rest for both.
type StreamDeleter interface {
	DeleteStreams(ctx context.Context, streams ...string) error
}
