package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/reports"
)

// logFilter selects the streams the notifier follows.
func logFilter() eventstore.Filter {
	return eventstore.Filter{StreamPrefixes: []string{domain.StreamPrefix, SubscriptionStreamPrefix}}
}

// decideChunk bounds the sessions decided in one transaction.
const decideChunk = 500

// projectionWait is how long a decision waits for the read models to fold
// a due session's newest event before it looks again.
const projectionWait = 200 * time.Millisecond

// outboxBatch is the projection's batch in hand.
type outboxBatch struct {
	touched map[reports.SessionKey]touch
	subs    []subChange
	cp      eventstore.Position
	count   int
}

func (b *outboxBatch) reset() {
	clear(b.touched)
	b.subs = b.subs[:0]
	b.count = 0
}

// runOutbox is the projection: it folds the log into the due index and
// the subscriptions, and decides what is owed when sessions go quiet.
func (n *Notifier) runOutbox(ctx context.Context) error {
	cp, err := n.deps.Store.checkpoint()
	if err != nil {
		return err
	}
	st, err := n.deps.Log.Stats(ctx, logFilter())
	if err != nil {
		return fmt.Errorf("notify: log head: %w", err)
	}
	target := st.Head
	n.cp.Store(&cp)
	caughtUp := cp.Compare(target) >= 0
	n.log.Info("notifier starting", "from", cp.String(), "head", target.String())

	type item struct {
		ev  eventstore.RecordedEvent
		err error
	}
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	feed := make(chan item, n.cfg.BatchSize)
	go func() {
		defer close(feed)
		for ev, err := range n.deps.Log.SubscribeAll(subCtx, cp, logFilter()) {
			select {
			case feed <- item{ev, err}:
			case <-subCtx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()

	b := &outboxBatch{touched: map[reports.SessionKey]touch{}, cp: cp}
	flush := func() error {
		if b.count == 0 {
			return nil
		}
		if err := n.deps.Store.applyBatch(b.touched, b.subs, b.cp, n.cfg.FinalAfter, n.cfg.Clock.Now()); err != nil {
			return err
		}
		cp := b.cp
		n.cp.Store(&cp)
		for _, c := range b.subs {
			if c.deleted != "" {
				n.disp.wake(c.deleted)
			}
		}
		if !caughtUp && b.cp.Compare(target) >= 0 {
			caughtUp = true
			n.log.Info("notifier caught up", "checkpoint", b.cp.String())
		}
		b.reset()
		return nil
	}

	batchTimer := time.NewTimer(time.Hour)
	batchTimer.Stop()
	retryTimer := time.NewTimer(time.Hour)
	retryTimer.Stop()
	var due clockTimer
	defer due.stop()
	// arm sets the decision timer to the earliest due session.
	arm := func() error {
		due.stop()
		if !caughtUp {
			return nil
		}
		at, ok, err := n.deps.Store.nextDue()
		if err != nil || !ok {
			return err
		}
		due.startAt(n.cfg.Clock, at)
		return nil
	}
	if err := arm(); err != nil {
		return err
	}
	for {
		select {
		case it, ok := <-feed:
			if !ok || (it.err != nil && ctx.Err() != nil) {
				return n.finalFlush(flush)
			}
			if it.err != nil {
				return fmt.Errorf("notify: subscription: %w", it.err)
			}
			if b.count == 0 {
				batchTimer.Reset(n.cfg.BatchAge)
			}
			n.applyEvent(b, it.ev)
			if b.count >= n.cfg.BatchSize {
				batchTimer.Stop()
				if err := flush(); err != nil {
					return err
				}
				if err := arm(); err != nil {
					return err
				}
			}
		case <-batchTimer.C:
			if err := flush(); err != nil {
				return err
			}
			if err := arm(); err != nil {
				return err
			}
		case <-due.c():
			due.stop()
			if err := flush(); err != nil {
				return err
			}
			waiting, err := n.decideDue(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			if waiting {
				retryTimer.Reset(projectionWait)
			} else if err := arm(); err != nil {
				return err
			}
		case <-retryTimer.C:
			if err := arm(); err != nil {
				return err
			}
		case <-ctx.Done():
			return n.finalFlush(flush)
		}
	}
}

func (n *Notifier) finalFlush(flush func() error) error {
	if err := flush(); err != nil {
		return fmt.Errorf("notify: final flush: %w", err)
	}
	return nil
}

// applyEvent folds one event into the batch.
func (n *Notifier) applyEvent(b *outboxBatch, ev eventstore.RecordedEvent) {
	b.cp = ev.Position
	b.count++
	if strings.HasPrefix(ev.Stream, SubscriptionStreamPrefix) {
		for _, r := range applySubEvent(nil, ev) {
			b.subs = append(b.subs, subChange{rec: r})
		}
		if ev.Type == TypeSubscriptionDeleted {
			var d subscriptionDeleted
			if json.Unmarshal(ev.Data, &d) == nil && d.ID != "" {
				b.subs = append(b.subs, subChange{deleted: d.ID})
			}
		}
		return
	}
	var md struct {
		AppID     string `json:"app_id"`
		SessionID string `json:"session_id"`
	}
	if err := json.Unmarshal(ev.Data, &md); err != nil || md.AppID == "" || md.SessionID == "" {
		n.m.skipped.Inc()
		return
	}
	key := reports.SessionKey{AppID: md.AppID, SessionID: md.SessionID}
	t := b.touched[key]
	t.at = max(t.at, ev.RecordedAt.UnixNano())
	t.pos = ev.Position
	b.touched[key] = t
}

// decideDue decides every session due by now, in chunks. waiting is true
// when some due session waits for the read models.
func (n *Notifier) decideDue(ctx context.Context) (waiting bool, err error) {
	for {
		now := n.cfg.Clock.Now()
		due, err := n.deps.Store.dueSessions(now, decideChunk)
		if err != nil {
			return false, err
		}
		if len(due) == 0 {
			return waiting, nil
		}
		projected := n.deps.Projected()
		var ds []decision
		subs := map[string][]subRecord{} // per app, for this chunk
		for _, s := range due {
			if projected.Compare(s.state.LastPos) < 0 {
				waiting = true
				continue
			}
			appSubs, ok := subs[s.key.AppID]
			if !ok {
				if appSubs, err = n.deps.Store.activeSubs(s.key.AppID); err != nil {
					return false, err
				}
				subs[s.key.AppID] = appSubs
			}
			if len(appSubs) == 0 {
				// Nobody to tell: the session leaves the due index
				// without its report being read (a first start over a
				// long log decides every past meeting this way). A later
				// change is then the first notification: meeting.final.
				ds = append(ds, decision{key: s.key, due: s.state.Due})
				continue
			}
			d, err := n.decideOne(ctx, s, appSubs, now)
			if err != nil {
				return false, err
			}
			ds = append(ds, d)
		}
		if err := n.deps.Store.decide(ds); err != nil {
			return false, err
		}
		for _, d := range ds {
			for _, dl := range d.deliveries {
				n.m.notifications.WithLabelValues(dl.Type).Inc()
				n.disp.wake(dl.SubscriptionID)
			}
		}
		if len(ds) == 0 || len(due) < decideChunk {
			return waiting, nil
		}
	}
}

// body is a notification's payload.
type body struct {
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// decideOne decides one due session.
func (n *Notifier) decideOne(ctx context.Context, s dueSession, subs []subRecord, now time.Time) (decision, error) {
	d := decision{key: s.key, due: s.state.Due}
	m, err := n.deps.Meetings.Meeting(ctx, s.key)
	if errors.Is(err, reports.ErrNotFound) {
		return d, nil
	}
	if err != nil {
		return d, fmt.Errorf("notify: meeting %s/%s: %w", s.key.AppID, s.key.SessionID, err)
	}
	if m.Status != domain.StatusEnded && m.Status != domain.StatusAbandoned {
		return d, nil // a later event (the end, the abandonment) brings it back
	}
	data, err := json.Marshal(n.deps.Render(m))
	if err != nil {
		return d, fmt.Errorf("notify: render %s/%s: %w", s.key.AppID, s.key.SessionID, err)
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	if hash == s.state.Hash {
		return d, nil
	}
	d.hash = hash
	typ := EventFinal
	if s.state.Hash != "" {
		typ = EventRevised
	}
	quietAt := time.Unix(0, s.state.Due)
	now = now.UTC()
	for _, sub := range subs {
		if !sub.wants(typ) || sub.LoggedAt.After(quietAt) {
			continue
		}
		id := uuid.NewSHA1(uuid.NameSpaceURL, []byte("meetingd/notification/"+sub.ID+"/"+s.key.AppID+"/"+s.key.SessionID+"/"+typ+"/"+hash))
		d.deliveries = append(d.deliveries, Delivery{
			ID: "msg_" + strings.ReplaceAll(id.String(), "-", ""), SubscriptionID: sub.ID, AppID: s.key.AppID,
			SessionID: s.key.SessionID, Type: typ, Status: StatusPending, CreatedAt: now,
			NextAttemptAt: &now, RetryFrom: now, History: []Attempt{},
		})
	}
	if len(d.deliveries) > 0 {
		if d.body, err = json.Marshal(body{Type: typ, Timestamp: now, Data: data}); err != nil {
			return d, fmt.Errorf("notify: encode body: %w", err)
		}
	}
	return d, nil
}

// clockTimer is an optional timer of the Clock.
type clockTimer struct {
	t clockworkTimer
}

type clockworkTimer interface {
	Chan() <-chan time.Time
	Stop() bool
}

// startAt sets the timer to fire at the clock's time at. A timer takes a
// duration, which a clock moved between the reading and the setting would
// make fire late (a fake clock's Advance: by the whole step). The setting
// is repeated while the clock moved by a millisecond or more across it
// (a real clock moves by nanoseconds: once is enough), at most 3 times.
func (c *clockTimer) startAt(clk Clock, at time.Time) {
	c.stop()
	for range 3 {
		now := clk.Now()
		c.t = clk.NewTimer(max(at.Sub(now), 0))
		if clk.Now().Sub(now) < time.Millisecond {
			return
		}
		c.t.Stop()
	}
	c.t = clk.NewTimer(max(at.Sub(clk.Now()), 0))
}

func (c *clockTimer) stop() {
	if c.t != nil {
		c.t.Stop()
		c.t = nil
	}
}

// c is the timer's channel; nil (never ready) when stopped.
func (c *clockTimer) c() <-chan time.Time {
	if c.t == nil {
		return nil
	}
	return c.t.Chan()
}
