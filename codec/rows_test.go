package codec_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/internal/eventgen"
)

// TestRowsMatchStdlib checks that the encoders of the rows write the
// bytes encoding/json writes, that stored facts read back to the same facts,
// and that the fast decoder reads meetings back to the same values,
// for the meetings, participant rows and facts of a realistic corpus
// (meetings and calls, rejoins, recordings, transcripts, ringing).
func TestRowsMatchStdlib(t *testing.T) {
	events, err := eventgen.Generate(eventgen.Config{Events: 8000, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	facts := map[[2]string]*domain.Facts{}
	for it, err := range events {
		if err != nil {
			t.Fatal(err)
		}
		k := [2]string{it.Event.AppID, it.Event.SessionID}
		if facts[k] == nil {
			facts[k] = domain.NewFacts(k[0], k[1])
		}
		facts[k].Apply(it.Event)
	}
	if len(facts) < 300 {
		t.Fatalf("corpus has only %d sessions", len(facts))
	}
	for k, f := range facts {
		m := f.Meeting()
		list := m
		list.Participants, list.UnmatchedParticipants = nil, nil
		// The stored facts read back to facts that store the same bytes
		// and derive the same meeting.
		stored, err := codec.MarshalFacts(f)
		if err != nil {
			t.Fatal(err)
		}
		back := domain.NewFacts(k[0], k[1])
		if err := codec.UnmarshalFacts(stored, back); err != nil {
			t.Fatal(err)
		}
		again, err := codec.MarshalFacts(back)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, stored) {
			t.Fatalf("%v facts: stored\n%s\nread back and stored again\n%s", k, stored, again)
		}
		if diff := cmp.Diff(m, back.Meeting()); diff != "" {
			t.Fatalf("%v: meeting of the facts read back differs (-stored +read back):\n%s", k, diff)
		}
		for name, enc := range map[string]struct {
			got func() ([]byte, error)
			v   any
		}{
			"meeting row": {func() ([]byte, error) { return codec.MeetingRow(m) }, list},
			"people": {func() ([]byte, error) { return codec.Participants(&m) }, struct {
				P []domain.Attendance `json:"p"`
				U []domain.Attendance `json:"u,omitempty"`
			}{m.Participants, m.UnmatchedParticipants}},
		} {
			want, err := json.Marshal(enc.v)
			if err != nil {
				t.Fatal(err)
			}
			got, err := enc.got()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%v %s: append encoder wrote\n%s\nencoding/json wrote\n%s", k, name, got, want)
			}
		}
		data, _ := json.Marshal(m)
		var std, fast domain.Meeting
		if err := json.Unmarshal(data, &std); err != nil {
			t.Fatal(err)
		}
		if err := codec.UnmarshalMeeting(data, &fast); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(std, fast); diff != "" {
			t.Fatalf("%v: fast decode differs from encoding/json (-std +fast):\n%s", k, diff)
		}
		people, err := codec.Participants(&m)
		if err != nil {
			t.Fatal(err)
		}
		var rows domain.Meeting
		if err := codec.UnmarshalParticipants(people, &rows); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(m.Participants, rows.Participants); diff != "" {
			t.Fatalf("%v: participants read back differ:\n%s", k, diff)
		}
		if diff := cmp.Diff(m.UnmatchedParticipants, rows.UnmatchedParticipants); diff != "" {
			t.Fatalf("%v: unmatched participants read back differ:\n%s", k, diff)
		}
	}
}
