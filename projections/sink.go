package projections

import (
	"context"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/reports"
)

// SessionUpdate is the new state of one changed session.
type SessionUpdate struct {
	Key reports.SessionKey
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
	LoadFacts(ctx context.Context, keys []reports.SessionKey) (map[reports.SessionKey]*domain.Facts, error)
}
