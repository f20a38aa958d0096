package envelope

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/intake"
)

// RewriteName names the migration of a log written before sealing
// (embedded.Rewrite keeps its progress under it).
const RewriteName = "seal-personal-data-1"

// SealRecord returns a stored record as a log written with sealing would
// hold it, and true; or false when it holds no personal data in the clear
// (sealed already, of a type without any, or not one this version
// decodes). A join's or a leave's id becomes EventID's keyed one, a
// quarantine record's BodyID's, as the intake writes them now. It is the
// embedded.RewriteFunc of the in-place migration (cmd/meetingd).
func (e *Envelope) SealRecord(ctx context.Context, rec eventstore.RecordedEvent) (eventstore.Event, bool, error) {
	out := rec.Event
	if rec.Type == intake.TypeQuarantined {
		var q intake.QuarantineRecord
		if err := json.Unmarshal(rec.Data, &q); err != nil {
			return out, false, nil //nolint:nilerr // not a record this version reads: kept as stored
		}
		if len(q.Body) == 0 && len(q.BodyGzip) == 0 {
			return out, false, nil
		}
		gz := len(q.BodyGzip) > 0
		z := q.BodyGzip
		if err := q.Expand(); err != nil {
			return out, false, fmt.Errorf("envelope: quarantine record %s: %w", rec.ID, err)
		}
		out.ID = e.BodyID(q.Body)
		plain := []byte(q.Body)
		if gz {
			plain = z
		}
		sealed, err := e.SealBody(ctx, q.AppID, out.ID, plain)
		if err != nil {
			return out, false, err
		}
		q.Body, q.BodyGzip, q.BodySealed, q.BodySealedGzip = nil, nil, sealed, gz
		if out.Data, err = json.Marshal(q); err != nil {
			return out, false, fmt.Errorf("envelope: quarantine record %s: %w", rec.ID, err)
		}
		return out, true, nil
	}
	if bytes.Contains(rec.Data, []byte(mark)) {
		return out, false, nil // sealed when written, or by an earlier run
	}
	ev, err := codec.UnmarshalEvent(rec.Type, rec.Data)
	if errors.Is(err, domain.ErrUnknownEventType) {
		return out, false, nil
	}
	if err != nil {
		return out, false, fmt.Errorf("envelope: %s revision %d: %w", rec.Stream, rec.Revision, err)
	}
	sealed, err := e.Seal(ctx, ev)
	if err != nil {
		return out, false, err
	}
	data, err := codec.MarshalEvent(sealed)
	if err != nil {
		return out, false, fmt.Errorf("envelope: %s revision %d: %w", rec.Stream, rec.Revision, err)
	}
	plain, err := codec.MarshalEvent(ev)
	if err != nil || bytes.Equal(plain, data) {
		return out, false, err // nothing personal in it
	}
	out.Data = data
	switch ev.Payload.(type) {
	case domain.ParticipantJoined, domain.ParticipantLeft:
		if rec.ID == domain.EventID(ev) {
			out.ID = e.EventID(ev)
		}
	}
	return out, true, nil
}
