package erasure

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/eventstore"
)

// StreamPrefix starts the name of every erasure stream.
const StreamPrefix = "erasures-"

// Stream is the stream of app's erasures.
func Stream(app string) string { return StreamPrefix + app }

// Event types of an erasure stream.
const (
	TypeRequested = "erasure.requested.v1"
	TypeProgress  = "erasure.progress.v1"
	TypeDone      = "erasure.done.v1"
)

// requested is the payload of erasure.requested.v1: no personal data.
type requested struct {
	ID          string    `json:"id"`
	AppID       string    `json:"app_id"`
	Pseudonym   string    `json:"pseudonym"`
	RequestedBy string    `json:"requested_by"`
	RequestedAt time.Time `json:"requested_at"`
}

// progress is the payload of erasure.progress.v1 (sessions rewritten, at
// most progressChunk) and erasure.done.v1 (no sessions: the end).
type progress struct {
	ID       string    `json:"id"`
	Sessions []string  `json:"sessions"`
	At       time.Time `json:"at"`
}

// Status of an erasure.
const (
	StatusPending = "pending"
	StatusDone    = "done"
)

// Erasure is an erasure as its stream tells it.
type Erasure struct {
	ID    string `json:"id"`
	AppID string `json:"-"`
	// Participant is the subject's pseudonym: the identity is never shown.
	Participant string `json:"participant"`
	Status      string `json:"status"`
	// Sessions are the sessions rewritten, sorted (so far, while pending).
	Sessions    []string   `json:"sessions"`
	RequestedBy string     `json:"requested_by"`
	RequestedAt time.Time  `json:"requested_at"`
	DoneAt      *time.Time `json:"done_at"`
}

// fold applies one recorded event of an erasure stream to the erasures by id.
func fold(byID map[string]*Erasure, order *[]string, ev eventstore.RecordedEvent) error {
	switch ev.Type {
	case TypeRequested:
		var r requested
		if err := json.Unmarshal(ev.Data, &r); err != nil {
			return fmt.Errorf("erasure event %s: %w", ev.ID, err)
		}
		if _, ok := byID[r.ID]; !ok {
			*order = append(*order, r.ID)
			byID[r.ID] = &Erasure{ID: r.ID, AppID: r.AppID, Participant: r.Pseudonym, Status: StatusPending,
				Sessions: []string{}, RequestedBy: r.RequestedBy, RequestedAt: r.RequestedAt}
		}
	case TypeProgress, TypeDone:
		var p progress
		if err := json.Unmarshal(ev.Data, &p); err != nil {
			return fmt.Errorf("erasure event %s: %w", ev.ID, err)
		}
		e, ok := byID[p.ID]
		if !ok {
			return nil
		}
		e.Sessions = union(e.Sessions, p.Sessions)
		if ev.Type == TypeDone {
			at := p.At
			e.Status, e.DoneAt = StatusDone, &at
		}
	}
	return nil
}

// union returns the sorted union of two session lists.
func union(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// event builds an event of the erasure stream with an id derived from the
// erasure id, the type and what distinguishes the step (idempotent appends).
func event(typ, id, step string, payload any) (eventstore.Event, error) {
	data, err := json.Marshal(payload)
	if err != nil {
		return eventstore.Event{}, fmt.Errorf("encode %s: %w", typ, err)
	}
	evID := uuid.NewSHA1(uuid.NameSpaceURL, fmt.Appendf(nil, "meetingd/%s/%s/%s", typ, id, step))
	return eventstore.Event{ID: evID, Type: typ, Data: data}, nil
}
