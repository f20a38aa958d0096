package notify

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/eventstore"
)

// SubscriptionLog is the part of the event log Subscriptions uses.
type SubscriptionLog interface {
	Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.Event) (eventstore.AppendResult, error)
	ReadStream(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error]
}

// MaxSubscriptions bounds the active subscriptions of one app.
const MaxSubscriptions = 50

// Subscriptions creates, lists and deletes subscriptions as events of
// their app's stream. Safe for concurrent use.
type Subscriptions struct {
	log    SubscriptionLog
	policy URLPolicy
	now    func() time.Time
	rand   io.Reader
}

// NewSubscriptions returns the subscription service. A nil now is
// time.Now; a nil random is crypto/rand.
func NewSubscriptions(log SubscriptionLog, policy URLPolicy, now func() time.Time, random io.Reader) (*Subscriptions, error) {
	if log == nil {
		return nil, errors.New("notify: subscriptions need a log")
	}
	if now == nil {
		now = time.Now
	}
	if random == nil {
		random = rand.Reader
	}
	return &Subscriptions{log: log, policy: policy, now: now, rand: random}, nil
}

// Create validates and stores a subscription of app; the answer holds the
// secret, which no other call shows.
func (s *Subscriptions) Create(ctx context.Context, app, rawURL string, events []string) (Subscription, error) {
	evs, err := checkEvents(events)
	if err != nil {
		return Subscription{}, err
	}
	u, err := s.policy.Check(ctx, rawURL)
	if err != nil {
		return Subscription{}, err
	}
	id, err := uuid.NewRandomFromReader(s.rand)
	if err != nil {
		return Subscription{}, fmt.Errorf("subscription id: %w", err)
	}
	key := make([]byte, 32)
	if _, err := io.ReadFull(s.rand, key); err != nil {
		return Subscription{}, fmt.Errorf("subscription secret: %w", err)
	}
	c := subscriptionCreated{
		ID: id.String(), AppID: app, URL: u.String(), Events: evs,
		Secret:    "whsec_" + base64.StdEncoding.EncodeToString(key),
		CreatedAt: s.now().UTC().Truncate(time.Second),
	}
	data, err := json.Marshal(c)
	if err != nil {
		return Subscription{}, fmt.Errorf("encode subscription: %w", err)
	}
	ev := eventstore.Event{ID: id, Type: TypeSubscriptionCreated, Data: data}
	err = s.appendChecked(ctx, app, ev, func(subs []subRecord) error {
		if active(subs) >= MaxSubscriptions {
			return invalid("url", "the app has %d subscriptions, the most allowed", MaxSubscriptions)
		}
		return nil
	})
	if err != nil {
		return Subscription{}, err
	}
	out := subRecord{subscriptionCreated: c}.public()
	out.Secret = c.Secret
	return out, nil
}

// List returns app's active subscriptions, oldest first, without secrets.
func (s *Subscriptions) List(ctx context.Context, app string) ([]Subscription, error) {
	subs, _, err := s.load(ctx, app)
	if err != nil {
		return nil, err
	}
	out := []Subscription{}
	for _, r := range subs {
		if !r.Deleted {
			out = append(out, r.public())
		}
	}
	return out, nil
}

// Get returns one active subscription of app, or ErrNotFound.
func (s *Subscriptions) Get(ctx context.Context, app, id string) (Subscription, error) {
	subs, _, err := s.load(ctx, app)
	if err != nil {
		return Subscription{}, err
	}
	for _, r := range subs {
		if r.ID == id && !r.Deleted {
			return r.public(), nil
		}
	}
	return Subscription{}, fmt.Errorf("subscription %s: %w", id, ErrNotFound)
}

// Delete deletes an active subscription of app: no notification is sent
// to it afterwards. ErrNotFound for an unknown or deleted one.
func (s *Subscriptions) Delete(ctx context.Context, app, id string) error {
	data, err := json.Marshal(subscriptionDeleted{ID: id, AppID: app, DeletedAt: s.now().UTC()})
	if err != nil {
		return fmt.Errorf("encode deletion: %w", err)
	}
	evID := uuid.NewSHA1(uuid.NameSpaceURL, []byte("meetingd/subscription-deleted/"+app+"/"+id))
	ev := eventstore.Event{ID: evID, Type: TypeSubscriptionDeleted, Data: data}
	return s.appendChecked(ctx, app, ev, func(subs []subRecord) error {
		for _, r := range subs {
			if r.ID == id && !r.Deleted {
				return nil
			}
		}
		return fmt.Errorf("subscription %s: %w", id, ErrNotFound)
	})
}

// appendChecked reads app's stream, lets check refuse, and appends ev at
// the revision read, again from the read when another writer came first.
func (s *Subscriptions) appendChecked(ctx context.Context, app string, ev eventstore.Event, check func([]subRecord) error) error {
	stream := SubscriptionStream(app)
	for range 5 {
		subs, rev, err := s.load(ctx, app)
		if err != nil {
			return err
		}
		if err := check(subs); err != nil {
			return err
		}
		expected := eventstore.NoStream
		if rev >= 0 {
			expected = eventstore.Exact(uint64(rev))
		}
		_, err = s.log.Append(ctx, stream, expected, ev)
		if errors.Is(err, eventstore.ErrConcurrency) {
			continue
		}
		if err != nil {
			return fmt.Errorf("append %s: %w", stream, err)
		}
		return nil
	}
	return fmt.Errorf("append %s: %w", stream, eventstore.ErrConcurrency)
}

// load folds app's stream; rev is its last revision, -1 without one.
func (s *Subscriptions) load(ctx context.Context, app string) ([]subRecord, int64, error) {
	stream := SubscriptionStream(app)
	var subs []subRecord
	rev := int64(-1)
	for ev, err := range s.log.ReadStream(ctx, stream, 0) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return nil, -1, nil
		}
		if err != nil {
			return nil, 0, fmt.Errorf("read %s: %w", stream, err)
		}
		rev = int64(ev.Revision)
		subs = applySubEvent(subs, ev)
	}
	return subs, rev, nil
}

// applySubEvent folds one subscription event into subs (unknown types and
// undecodable data are skipped: a newer version's events).
func applySubEvent(subs []subRecord, ev eventstore.RecordedEvent) []subRecord {
	switch ev.Type {
	case TypeSubscriptionCreated:
		var c subscriptionCreated
		if json.Unmarshal(ev.Data, &c) != nil || c.ID == "" {
			return subs
		}
		if slices.ContainsFunc(subs, func(r subRecord) bool { return r.ID == c.ID }) {
			return subs
		}
		return append(subs, subRecord{subscriptionCreated: c, LoggedAt: ev.RecordedAt})
	case TypeSubscriptionDeleted:
		var d subscriptionDeleted
		if json.Unmarshal(ev.Data, &d) != nil {
			return subs
		}
		for i := range subs {
			if subs[i].ID == d.ID {
				subs[i].Deleted = true
			}
		}
	}
	return subs
}

func active(subs []subRecord) int {
	n := 0
	for _, r := range subs {
		if !r.Deleted {
			n++
		}
	}
	return n
}

// checkEvents validates the requested types; none means both.
func checkEvents(events []string) ([]string, error) {
	if len(events) == 0 {
		return []string{EventFinal, EventRevised}, nil
	}
	var out []string
	for _, e := range events {
		if e != EventFinal && e != EventRevised {
			return nil, invalid("events", "unknown type %q (want %q or %q)", e, EventFinal, EventRevised)
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}
