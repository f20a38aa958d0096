package corpus

import (
	"fmt"
	"iter"
	"math/rand/v2"
)

// Delivery is one POST of a webhook body.
type Delivery struct {
	// Session and Event say which event this is: the Event-th event of the
	// session with Index Session.
	Session, Event int
	// Copy is 0 for an event's first delivery and 1, 2 for its duplicates.
	Copy      int
	WebhookID string
	Body      []byte
}

// sessionDeliveries renders the events of s once each, plus duplicates: a
// share dup of the events is delivered twice and a fifth of those three
// times. A duplicate is a retry (same webhook id and body) or the event
// through the app's other webhook configuration, then often spelled the
// other way (Style). The choice depends only on seed and s.Index.
func sessionDeliveries(s *Session, dup float64, seed uint64, out []Delivery) ([]Delivery, error) {
	r := rand.New(rand.NewPCG(seed^0xd0b1e5, uint64(s.Index)+1))
	for k := range s.Events {
		e := &s.Events[k]
		copies := 1
		if x := r.Float64(); x < dup {
			copies++
			if x < dup/5 {
				copies++
			}
		}
		for c := range copies {
			wh, style := s.Webhooks[0], StyleCometChat
			if c > 0 && r.Float64() < 0.5 {
				wh = s.Webhooks[1]
				style = Style(r.IntN(4))
			}
			body, err := Render(s, e, wh, style)
			if err != nil {
				return out, err
			}
			out = append(out, Delivery{Session: s.Index, Event: k, Copy: c, WebhookID: wh, Body: body})
		}
	}
	return out, nil
}

// Deliveries returns every event of sessions with its duplicates (see
// Stream for the share dup), in an order shuffled by seed.
func Deliveries(sessions []Session, dup float64, seed uint64) ([]Delivery, error) {
	if dup < 0 || dup > 1 {
		return nil, fmt.Errorf("corpus: duplicate share %v: want 0 to 1", dup)
	}
	var out []Delivery
	for i := range sessions {
		var err error
		if out, err = sessionDeliveries(&sessions[i], dup, seed, out); err != nil {
			return nil, err
		}
	}
	r := rand.New(rand.NewPCG(seed, 0x5ff1e))
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out, nil
}

// Stream yields the deliveries of sessions [0, n) window sessions at a time,
// each window's deliveries shuffled, so that many sessions interleave as they
// would live while memory stays bounded. A share dup (0 to 1) of the events
// is delivered more than once: retries, and the same event through the app's
// second webhook configuration, under another webhook id and sometimes
// spelled differently. The sequence depends only on the Config, n, window,
// dup and seed. It stops at the first error.
func (g *Generator) Stream(n, window int, dup float64, seed uint64) iter.Seq2[Delivery, error] {
	return func(yield func(Delivery, error) bool) {
		if dup < 0 || dup > 1 || window < 1 {
			yield(Delivery{}, fmt.Errorf("corpus: stream: duplicate share %v (want 0 to 1), window %d (want ≥ 1)", dup, window))
			return
		}
		var buf []Delivery
		for from := 0; from < n; from += window {
			buf = buf[:0]
			for i := from; i < min(from+window, n); i++ {
				s := g.Session(i)
				var err error
				if buf, err = sessionDeliveries(&s, dup, seed, buf); err != nil {
					yield(Delivery{}, err)
					return
				}
			}
			r := rand.New(rand.NewPCG(seed, uint64(from)))
			r.Shuffle(len(buf), func(i, j int) { buf[i], buf[j] = buf[j], buf[i] })
			for _, d := range buf {
				if !yield(d, nil) {
					return
				}
			}
		}
	}
}
