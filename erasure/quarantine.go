package erasure

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/intake"
	"github.com/meetingd/meetingd/privacy/envelope"
)

// Quarantine is the Rewriter of the quarantine: each quarantined raw body
// is sealed under a key of its own record (envelope.QuarantineSubject), so
// the subject's key does not cover it; Rewrite erases the key of every
// record of the app whose body holds a string (a key or a value, anywhere)
// whose pseudonym is the erasure's. The record stays (trigger, reason,
// time), its body unreadable. The sessions do not matter: a quarantined
// body may belong to no session.
type Quarantine struct {
	// Log reads the app's quarantine stream with the bodies opened
	// (envelope.Log); a record whose key is erased has no body.
	Log StreamLog
	// Keys erases a record's key.
	Keys KeyEraser
}

// Rewrite erases the keys of the app's quarantined bodies naming the subject.
func (q Quarantine) Rewrite(ctx context.Context, app, pseudonym string, _ []string) error {
	match := domain.PseudonymOf(app, pseudonym)
	for rec, err := range q.Log.ReadStream(ctx, domain.QuarantineStream(app), 0) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return nil
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
		if len(r.Body) == 0 || !namesSubject(r.Body, match) {
			continue
		}
		if err := q.Keys.Erase(ctx, envelope.QuarantineSubject(app, rec.ID)); err != nil {
			return fmt.Errorf("quarantine record %s: %w", rec.ID, err)
		}
	}
	return nil
}

// namesSubject reports whether a string of the JSON body matches. A body
// that is not JSON throughout is read up to where it stops being JSON.
func namesSubject(body []byte, match func(string) bool) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if s, ok := tok.(string); ok && match(s) {
			return true
		}
	}
}
