package retention

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/intake"
	"github.com/meetingd/meetingd/privacy"
	"github.com/meetingd/meetingd/privacy/envelope"
	"github.com/meetingd/meetingd/reports"
)

// StreamReader reads a stream (the log seen through privacy/envelope, so
// that quarantined bodies are opened).
type StreamReader interface {
	ReadStream(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error]
}

// KeyEraser erases a data subject's key (privacy.Keyring).
type KeyEraser interface {
	Erase(ctx context.Context, s privacy.Subject) error
}

// Quarantine is the Deleter of quarantined webhook bodies: each is sealed
// under a key of its own record (envelope.QuarantineSubject), in its app's
// quarantine stream, which holds other sessions' records too; so instead
// of deleting records, it erases the key of every record whose body names
// a deleted session (a JSON string equal to its id) and that was received
// before the deletion started (later ones belong to the id's new data).
// The record stays (trigger, reason, time), its body unreadable.
type Quarantine struct {
	Log  StreamReader
	Keys KeyEraser
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// DeleteSessions erases the keys of the quarantined bodies naming keys.
func (q Quarantine) DeleteSessions(ctx context.Context, keys []reports.SessionKey) error {
	now := time.Now
	if q.Now != nil {
		now = q.Now
	}
	start := now()
	byApp := map[string]map[string]bool{}
	for _, k := range keys {
		if byApp[k.AppID] == nil {
			byApp[k.AppID] = map[string]bool{}
		}
		byApp[k.AppID][k.SessionID] = true
	}
	for app, sessions := range byApp {
		for rec, err := range q.Log.ReadStream(ctx, domain.QuarantineStream(app), 0) {
			if errors.Is(err, eventstore.ErrStreamNotFound) {
				break
			}
			if err != nil {
				return fmt.Errorf("quarantine of %s: %w", app, err)
			}
			if rec.Type != intake.TypeQuarantined {
				continue
			}
			var r intake.QuarantineRecord
			if err := json.Unmarshal(rec.Data, &r); err != nil {
				return fmt.Errorf("quarantine record %s: %w", rec.ID, err)
			}
			if len(r.Body) == 0 || !r.ReceivedAt.Before(start) || !namesAny(r.Body, sessions) {
				continue
			}
			if err := q.Keys.Erase(ctx, envelope.QuarantineSubject(app, rec.ID)); err != nil {
				return fmt.Errorf("quarantine record %s: %w", rec.ID, err)
			}
		}
	}
	return nil
}

// namesAny reports whether a string of the JSON body is one of ids (read up
// to where the body stops being JSON).
func namesAny(body []byte, ids map[string]bool) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if s, ok := tok.(string); ok && ids[s] {
			return true
		}
	}
}
