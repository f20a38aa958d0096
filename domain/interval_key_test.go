package domain_test

import (
	"math/rand/v2"
	"testing"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/domain/foldtest"
)

// TestIntervalKeysMatchFold: the distinct interval keys of a session's events
// are exactly the intervals the fold reports (the sum of its rows' join
// counts), for random sessions with repeats, leaves, all_occupants and
// reconciliations. The intake caps sessions by these keys.
func TestIntervalKeysMatchFold(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 7))
	for n := range 500 {
		events := foldtest.RandomSession(rng, n)
		keys := map[domain.IntervalKey]bool{}
		for _, ev := range events {
			for _, k := range domain.AppendIntervalKeys(nil, ev) {
				keys[k] = true
			}
		}
		m := domain.Fold(events)
		joins := 0
		for _, p := range m.Participants {
			joins += p.JoinCount
			for _, iv := range p.Intervals {
				if !keys[domain.IntervalKey{Participant: p.Participant, JoinedAt: iv.JoinedAt.Unix()}] {
					t.Fatalf("session %d: fold's interval (%s, %v) has no key", n, p.Participant, iv.JoinedAt)
				}
			}
		}
		if joins != len(keys) {
			t.Fatalf("session %d: fold has %d intervals, keys %d", n, joins, len(keys))
		}
	}
}

func TestIntervalKeyOf(t *testing.T) {
	for _, tc := range []struct {
		o    domain.Occupant
		want domain.IntervalKey
		ok   bool
	}{
		{domain.Occupant{Name: "Ann", JoinedAt: 10}, domain.IntervalKey{Participant: "Ann", JoinedAt: 10}, true},
		{domain.Occupant{UID: "u-1", Name: "Ann", JoinedAt: 10, LeftAt: 20}, domain.IntervalKey{Participant: "u-1", JoinedAt: 10}, true},
		{domain.Occupant{Name: "", JoinedAt: 10}, domain.IntervalKey{}, false},
		{domain.Occupant{Name: "Ann"}, domain.IntervalKey{}, false},
	} {
		got, ok := domain.IntervalKeyOf(tc.o)
		if got != tc.want || ok != tc.ok {
			t.Errorf("IntervalKeyOf(%+v) = %+v, %v; want %+v, %v", tc.o, got, ok, tc.want, tc.ok)
		}
	}
}
