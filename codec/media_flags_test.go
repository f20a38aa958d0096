package codec_test

import (
	"testing"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/cometchat/cometchattest"
	"github.com/meetingd/meetingd/domain"
)

// TestStoredEventsCarryMediaFlags: the stored form of every webhook that
// reports a presence keeps the media flags the usage report needs —
// occupant.audio_call of joins, leaves and all_occupants entries, and
// initial_config.is_audio_only of joins — so that `meetingd rebuild` can
// compute audio and video seconds from a log written by any release.
func TestStoredEventsCarryMediaFlags(t *testing.T) {
	vars := cometchattest.DefaultVars()
	for _, name := range []string{"meeting_participant_joined", "meeting_participant_left", "meeting_ended",
		"call_participant_joined", "call_participant_left", "call_ended"} {
		t.Run(name, func(t *testing.T) {
			wh, err := cometchat.Decoder{}.Decode(cometchattest.Fixture(t, name, vars))
			if err != nil {
				t.Fatal(err)
			}
			stored, err := codec.MarshalEvent(wh.Event)
			if err != nil {
				t.Fatal(err)
			}
			back, err := codec.UnmarshalEvent(wh.Event.Type(), stored)
			if err != nil {
				t.Fatal(err)
			}
			var flags []*bool
			switch p := back.Payload.(type) {
			case domain.ParticipantJoined:
				flags = append(flags, p.Occupant.AudioOnly)
				if p.Client != nil {
					flags = append(flags, p.Client.AudioOnly)
				}
			case domain.ParticipantLeft:
				flags = append(flags, p.Occupant.AudioOnly)
			case domain.SessionEnded:
				for _, o := range p.AllOccupants {
					flags = append(flags, o.AudioOnly)
				}
			}
			if len(flags) == 0 {
				t.Fatalf("%s: no presence decoded: %s", name, stored)
			}
			for i, f := range flags {
				if f == nil {
					t.Errorf("%s: flag %d lost in the stored form %s", name, i, stored)
				}
			}
		})
	}
}
