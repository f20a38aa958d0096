package envelope

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/privacy"
)

// prefix starts every sealed string of a subject's identity and names,
// prefixNested (below) one sealed under several subjects, and mark both
// (see the package doc).
const (
	mark   = "\uFFFD"
	prefix = mark + "1"
)

const (
	maskLen = 6
	// nonce position in privacy's ciphertext: version, key id, nonce
	nonceFrom, nonceTo = 1 + 8, 1 + 8 + 12
)

var b64 = base64.RawURLEncoding

// Envelope seals and opens events' personal data with one keyring.
type Envelope struct {
	ring privacy.Ring
}

// New returns an Envelope over ring.
func New(ring privacy.Ring) *Envelope { return &Envelope{ring: ring} }

// IsSealed reports whether s is a sealed string.
func IsSealed(s string) bool { return strings.HasPrefix(s, mark) }

func aad(app, session string) []byte {
	b := make([]byte, 0, 16+len(app)+len(session))
	b = append(b, "meetingd/event\x00"...)
	b = append(b, app...)
	b = append(b, 0)
	return append(b, session...)
}

// sealPair seals id ‖ 0 ‖ name under subject (app, identity). identity is
// id when not empty, else name.
func (e *Envelope) sealPair(ctx context.Context, app string, ad []byte, id, name string) (string, error) {
	ident := id
	if ident == "" {
		ident = name
	}
	s := privacy.Subject{AppID: app, Participant: ident}
	pt := make([]byte, 0, len(id)+1+len(name))
	pt = append(pt, id...)
	pt = append(pt, 0)
	pt = append(pt, name...)
	ct, err := e.ring.Seal(ctx, s, pt, ad)
	if err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	ps := sha256.Sum256([]byte(app + "/" + ident))
	m := e.ring.KeyedHash(append([]byte("pseudonym\x00"), ct[nonceFrom:nonceTo]...))
	raw := make([]byte, maskLen+len(ct))
	for i := range maskLen {
		raw[i] = ps[i] ^ m[i]
	}
	copy(raw[maskLen:], ct)
	return prefix + b64.EncodeToString(raw), nil
}

// openPair opens a sealed string into id and name, or both the pseudonym
// when the key is erased. A string that is not sealed is returned as name
// with the id given.
func (e *Envelope) openPair(ctx context.Context, ad []byte, id, sealed string) (string, string, error) {
	if !strings.HasPrefix(sealed, prefix) {
		return id, sealed, nil
	}
	raw, err := b64.DecodeString(sealed[len(prefix):])
	if err != nil || len(raw) < maskLen+privacy.Overhead {
		return "", "", fmt.Errorf("open: %w: not a sealed string", privacy.ErrCiphertext)
	}
	ct := raw[maskLen:]
	pt, err := e.ring.OpenByKey(ctx, ct, ad)
	if errors.Is(err, privacy.ErrErased) {
		m := e.ring.KeyedHash(append([]byte("pseudonym\x00"), ct[nonceFrom:nonceTo]...))
		var ps [maskLen]byte
		for i := range maskLen {
			ps[i] = raw[i] ^ m[i]
		}
		p := "erased-" + fmt.Sprintf("%x", ps[:])
		return p, p, nil
	}
	if err != nil {
		return "", "", fmt.Errorf("open: %w", err)
	}
	i := strings.IndexByte(string(pt), 0)
	if i < 0 {
		return "", "", fmt.Errorf("open: %w: no separator", privacy.ErrCiphertext)
	}
	all := string(pt) // one allocation for both
	return all[:i], all[i+1:], nil
}

func (e *Envelope) sealOccupants(ctx context.Context, app string, ad []byte, os []domain.Occupant) ([]domain.Occupant, error) {
	if len(os) == 0 {
		return os, nil
	}
	out := make([]domain.Occupant, len(os))
	for i, o := range os {
		if err := e.sealOccupant(ctx, app, ad, &o); err != nil {
			return nil, err
		}
		out[i] = o
	}
	return out, nil
}

func (e *Envelope) sealOccupant(ctx context.Context, app string, ad []byte, o *domain.Occupant) error {
	if o.UID == "" && (o.Name == "" || IsSealed(o.Name)) {
		return nil // nothing to seal, or sealed already
	}
	s, err := e.sealPair(ctx, app, ad, o.UID, o.Name)
	if err != nil {
		return err
	}
	o.UID, o.Name = "", s
	return nil
}

func (e *Envelope) openOccupants(ctx context.Context, ad []byte, os []domain.Occupant) error {
	for i := range os {
		if err := e.openOccupant(ctx, ad, &os[i]); err != nil {
			return err
		}
	}
	return nil
}

func (e *Envelope) openOccupant(ctx context.Context, ad []byte, o *domain.Occupant) error {
	if !IsSealed(o.Name) {
		return nil
	}
	id, name, err := e.openPair(ctx, ad, o.UID, o.Name)
	if err != nil {
		return err
	}
	o.UID, o.Name = id, name
	return nil
}

// prefixNested starts a string sealed under several subjects' keys in turn
// (a conversation id, which names both parties of a call): erasing any of
// them makes it unreadable.
const prefixNested = "\uFFFD2"

func (e *Envelope) sealNested(ctx context.Context, app string, ad []byte, v string, idents ...string) (string, error) {
	b := []byte(v)
	n := 0
	for _, id := range idents {
		if id == "" {
			continue
		}
		ct, err := e.ring.Seal(ctx, privacy.Subject{AppID: app, Participant: id}, b, ad)
		if err != nil {
			return "", fmt.Errorf("seal: %w", err)
		}
		b, n = ct, n+1
	}
	if n == 0 {
		return v, nil
	}
	return prefixNested + string(rune('0'+n)) + b64.EncodeToString(b), nil
}

// openNested opens what sealNested sealed: "" once any of its keys is erased.
func (e *Envelope) openNested(ctx context.Context, ad []byte, v string) (string, error) {
	if !strings.HasPrefix(v, prefixNested) || len(v) < len(prefixNested)+1 {
		return v, nil
	}
	n := int(v[len(prefixNested)] - '0')
	b, err := b64.DecodeString(v[len(prefixNested)+1:])
	if err != nil || n < 1 || n > 9 {
		return "", fmt.Errorf("open: %w: not a sealed string", privacy.ErrCiphertext)
	}
	for range n {
		b, err = e.ring.OpenByKey(ctx, b, ad)
		if errors.Is(err, privacy.ErrErased) {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("open: %w", err)
		}
	}
	return string(b), nil
}

// Seal returns ev with its personal data sealed (ev and its slices are not
// changed). Events without personal data are returned as they are, and
// strings sealed already are kept: Seal is idempotent.
func (e *Envelope) Seal(ctx context.Context, ev domain.Event) (domain.Event, error) {
	ad := aad(ev.AppID, ev.SessionID)
	app := ev.AppID
	var err error
	switch p := ev.Payload.(type) {
	case domain.ParticipantJoined:
		err = e.sealOccupant(ctx, app, ad, &p.Occupant)
		ev.Payload = p
	case domain.ParticipantLeft:
		err = e.sealOccupant(ctx, app, ad, &p.Occupant)
		ev.Payload = p
	case domain.SessionEnded:
		p.AllOccupants, err = e.sealOccupants(ctx, app, ad, p.AllOccupants)
		ev.Payload = p
	case domain.SessionReconciled:
		if p.Intervals, err = e.sealOccupants(ctx, app, ad, p.Intervals); err == nil {
			p.Unmatched, err = e.sealOccupants(ctx, app, ad, p.Unmatched)
		}
		if err == nil && len(p.Usage) > 0 {
			u := make([]domain.ParticipantUsage, len(p.Usage))
			copy(u, p.Usage)
			for i := range u {
				if u[i].Participant == "" || IsSealed(u[i].Participant) {
					continue
				}
				if u[i].Participant, err = e.sealPair(ctx, app, ad, u[i].Participant, ""); err != nil {
					break
				}
			}
			p.Usage = u
		}
		ev.Payload = p
	case domain.CallRinging:
		sender := p.Sender
		if sender == "" {
			sender = p.SenderName
		}
		if p.ConversationID != "" && !IsSealed(p.ConversationID) {
			p.ConversationID, err = e.sealNested(ctx, app, ad, p.ConversationID, p.Receiver, sender)
		}
		if err == nil && (p.Sender != "" || p.SenderName != "") && !IsSealed(p.Sender) {
			p.Sender, err = e.sealPair(ctx, app, ad, p.Sender, p.SenderName)
			p.SenderName = ""
		}
		if err == nil && p.Receiver != "" && !IsSealed(p.Receiver) {
			p.Receiver, err = e.sealPair(ctx, app, ad, p.Receiver, "")
		}
		ev.Payload = p
	case domain.PlanSet:
		if len(p.Roster) > 0 {
			r := make([]domain.RosterEntry, len(p.Roster))
			for i, x := range p.Roster {
				if IsSealed(x.Participant) {
					r[i] = x
					continue
				}
				if r[i].Participant, err = e.sealPair(ctx, app, ad, x.Participant, x.Name); err != nil {
					break
				}
			}
			p.Roster = r
		}
		ev.Payload = p
	}
	if err != nil {
		return domain.Event{}, fmt.Errorf("envelope: %s of %s/%s: %w", ev.Type(), ev.AppID, ev.SessionID, err)
	}
	return ev, nil
}

// Open replaces the sealed strings of ev, in place, by their plaintext, or
// by the subject's pseudonym when its key is erased. ev's slices are
// changed: pass an event that the caller owns (a decoded one).
func (e *Envelope) Open(ctx context.Context, ev *domain.Event) error {
	switch p := ev.Payload.(type) {
	case domain.ParticipantJoined:
		if !IsSealed(p.Occupant.Name) {
			return nil
		}
	case domain.ParticipantLeft:
		if !IsSealed(p.Occupant.Name) {
			return nil
		}
	case domain.SessionEnded, domain.SessionReconciled, domain.CallRinging, domain.PlanSet:
	default:
		return nil // no personal data
	}
	ad := aad(ev.AppID, ev.SessionID)
	var err error
	switch p := ev.Payload.(type) {
	case domain.ParticipantJoined:
		err = e.openOccupant(ctx, ad, &p.Occupant)
		ev.Payload = p
	case domain.ParticipantLeft:
		err = e.openOccupant(ctx, ad, &p.Occupant)
		ev.Payload = p
	case domain.SessionEnded:
		err = e.openOccupants(ctx, ad, p.AllOccupants)
	case domain.SessionReconciled:
		if err = e.openOccupants(ctx, ad, p.Intervals); err == nil {
			err = e.openOccupants(ctx, ad, p.Unmatched)
		}
		for i := range p.Usage {
			if err != nil {
				break
			}
			if IsSealed(p.Usage[i].Participant) {
				p.Usage[i].Participant, _, err = e.openPair(ctx, ad, "", p.Usage[i].Participant)
			}
		}
	case domain.CallRinging:
		if IsSealed(p.Sender) {
			p.Sender, p.SenderName, err = e.openPair(ctx, ad, "", p.Sender)
		}
		if err == nil && IsSealed(p.ConversationID) {
			p.ConversationID, err = e.openNested(ctx, ad, p.ConversationID)
		}
		if err == nil && IsSealed(p.Receiver) {
			p.Receiver, _, err = e.openPair(ctx, ad, "", p.Receiver)
		}
		ev.Payload = p
	case domain.PlanSet:
		for i := range p.Roster {
			if err != nil {
				break
			}
			if IsSealed(p.Roster[i].Participant) {
				p.Roster[i].Participant, p.Roster[i].Name, err = e.openPair(ctx, ad, "", p.Roster[i].Participant)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("envelope: %s of %s/%s: %w", ev.Type(), ev.AppID, ev.SessionID, err)
	}
	return nil
}

// idNamespace is the UUIDv5 namespace of the keyed event ids.
var idNamespace = uuid.MustParse("2c7d1e56-9b0a-5f43-8e21-707269766163")

// EventID is the event's dedupe id: for a join or a leave, whose
// domain.Key holds the identity, a UUIDv5 of the keyring's keyed hash of the
// key; for any other event domain.EventID.
func (e *Envelope) EventID(ev domain.Event) uuid.UUID {
	switch ev.Payload.(type) {
	case domain.ParticipantJoined, domain.ParticipantLeft:
		h := e.ring.KeyedHash([]byte(domain.Key(ev)))
		return uuid.NewSHA1(idNamespace, h[:])
	}
	return domain.EventID(ev)
}

// QuarantineSubject is the subject whose key seals the raw body of the
// quarantine record id of app: one key per record, which an erasure
// erases when the body names the person.
func QuarantineSubject(app string, id uuid.UUID) privacy.Subject {
	return privacy.Subject{AppID: app, Participant: "\x00quarantine/" + id.String()}
}

// SealBody seals a quarantined raw body under QuarantineSubject(app, id).
func (e *Envelope) SealBody(ctx context.Context, app string, id uuid.UUID, body []byte) ([]byte, error) {
	ct, err := e.ring.Seal(ctx, QuarantineSubject(app, id), body, []byte("meetingd/quarantine\x00"+app))
	if err != nil {
		return nil, fmt.Errorf("envelope: quarantine body: %w", err)
	}
	return ct, nil
}

// OpenBody opens a body that SealBody sealed; privacy.ErrErased once the
// record's key is erased.
func (e *Envelope) OpenBody(ctx context.Context, app string, id uuid.UUID, sealed []byte) ([]byte, error) {
	pt, err := e.ring.Open(ctx, QuarantineSubject(app, id), sealed, []byte("meetingd/quarantine\x00"+app))
	if err != nil {
		return nil, fmt.Errorf("envelope: quarantine body: %w", err)
	}
	return pt, nil
}

// bodyNamespace is the UUIDv5 namespace of the keyed quarantine record ids.
var bodyNamespace = uuid.MustParse("7a3f0c52-1d84-5e6b-9c07-626f64796964")

// BodyID is the quarantine record id of body: a UUIDv5 of the keyring's
// keyed hash of the body (the same body quarantined twice is one record),
// never a plain hash of a body that names people.
func (e *Envelope) BodyID(body []byte) uuid.UUID {
	h := e.ring.KeyedHash(append([]byte("quarantine\x00"), body...))
	return uuid.NewSHA1(bodyNamespace, h[:])
}

// OpenData returns a stored event's data with its sealed strings opened
// (or pseudonymised), in the stored form; data that holds nothing sealed,
// or that is not an event this version decodes, is returned as it is.
func (e *Envelope) OpenData(ctx context.Context, eventType string, data []byte) ([]byte, error) {
	if !bytes.Contains(data, []byte(mark)) {
		return data, nil
	}
	ev, err := codec.UnmarshalEvent(eventType, data)
	if err != nil {
		return data, nil //nolint:nilerr // not ours to judge: shown as stored
	}
	if err := e.Open(ctx, &ev); err != nil {
		return nil, err
	}
	return codec.MarshalEvent(ev)
}
