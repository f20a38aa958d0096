package projections_test

import (
	"context"
	"testing"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/reports"
)

// TestExclusiveRewriteSurvivesLaterEvents: a rewrite of the state store run
// through Exclusive while Run follows the log is what the next events of
// the session fold onto (the runner's cached fold state is dropped), so the
// runner never writes the old state back.
func TestExclusiveRewriteSurvivesLaterEvents(t *testing.T) {
	for _, running := range []bool{true, false} {
		l, st := newMemLog(), newMemState()
		_, all := corpus(4)
		appendAll(t, l, all)
		r := newRunner(t, l, st)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		if running {
			go func() { done <- r.Run(ctx) }()
			waitFor(t, "catch-up", func() bool { return st.checkpoint().Events == uint64(len(all)) })
		} else {
			if err := r.CatchUp(ctx); err != nil {
				t.Fatal(err)
			}
		}
		k := reports.SessionKey{AppID: "app-1", SessionID: "s-1"}
		m, ok := st.meeting(k)
		if !ok || len(m.Participants) == 0 {
			t.Fatalf("no participants in %v", k)
		}
		old := m.Participants[0].Participant
		pseudonym := domain.Pseudonym(k.AppID, old)
		err := r.Exclusive(ctx, func(ctx context.Context) error {
			facts, err := st.LoadFacts(ctx, []reports.SessionKey{k})
			if err != nil {
				return err
			}
			s, _ := facts[k].State().Pseudonymise(func(id string) bool { return id == old }, pseudonym)
			f := domain.NewFacts(k.AppID, k.SessionID)
			if err := f.MergeState(s); err != nil {
				return err
			}
			raw, err := codec.MarshalFacts(f)
			if err != nil {
				return err
			}
			st.mu.Lock()
			st.facts[k], st.meetings[k] = raw, f.Meeting()
			st.mu.Unlock()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		late := domain.Event{AppID: k.AppID, SessionID: k.SessionID, Kind: domain.KindMeeting, Trigger: cometchat.TriggerMeetingParticipantJoined,
			Payload: domain.ParticipantJoined{Occupant: domain.Occupant{UID: "late", Name: "Late", JoinedAt: 1_700_000_500}}}
		appendAll(t, l, []domain.Event{late})
		if running {
			waitFor(t, "the late join", func() bool { return st.checkpoint().Events == uint64(len(all)+1) })
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		} else if err := r.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		m, _ = st.meeting(k)
		var ids []string
		for _, p := range m.Participants {
			ids = append(ids, p.Participant)
		}
		for _, id := range ids {
			if id == old {
				t.Errorf("running %v: the runner wrote the old identity back: %v", running, ids)
			}
		}
		if len(ids) == 0 || ids[len(ids)-1] == "" {
			t.Errorf("running %v: participants %v", running, ids)
		}
	}
}
