package readmodel

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/projections/corpus"
)

// TestJSONCodecMatchesStdlib checks that the fast codec of json.go writes
// the bytes encoding/json writes, and reads them back to the same values,
// for the meetings, participant rows and facts of a realistic corpus
// (meetings and calls, rejoins, recordings, transcripts, ringing).
func TestJSONCodecMatchesStdlib(t *testing.T) {
	events, err := corpus.Generate(corpus.Config{Events: 8000, Seed: 7})
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
		for name, v := range map[string]any{
			"meeting":      list,
			"participants": participantsRecord{m.Participants, m.UnmatchedParticipants},
			"facts":        f,
		} {
			want, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			got, err := marshalJSON(v)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%v %s: fast codec wrote\n%s\nencoding/json wrote\n%s", k, name, got, want)
			}
		}
		for name, enc := range map[string]struct {
			got func() ([]byte, error)
			v   any
		}{
			"meeting row": {func() ([]byte, error) { return meetingRowJSON(m) }, list},
			"people":      {func() ([]byte, error) { return peopleJSON(&m) }, participantsRecord{m.Participants, m.UnmatchedParticipants}},
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
		if err := unmarshalJSON(data, &fast); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(std, fast); diff != "" {
			t.Fatalf("%v: fast decode differs from encoding/json (-std +fast):\n%s", k, diff)
		}
	}
}
