package jobs_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/jobs"
)

func ev(p domain.Payload) domain.Event {
	return domain.Event{AppID: "a", SessionID: "s", Payload: p}
}

func join(name, uid string, j int64) domain.Event {
	return ev(domain.ParticipantJoined{Occupant: domain.Occupant{Name: name, UID: uid, JoinedAt: j}})
}

func left(name, uid string, j, l int64) domain.Event {
	return ev(domain.ParticipantLeft{Occupant: domain.Occupant{Name: name, UID: uid, JoinedAt: j, LeftAt: l}})
}

func part(uid, name string, j, l int64) cometchat.Participant {
	return cometchat.Participant{UID: uid, Name: name, JoinedAt: j, LeftAt: l, IsJoined: j > 0}
}

func withUsage(p cometchat.Participant, audio, video float64) cometchat.Participant {
	p.AudioMinutes, p.VideoMinutes, p.HasUsage = audio, video, true
	return p
}

// TestPlan covers what the reconciliation adds, and above all whom it
// matches: by uid when the webhooks carried it, else by a name the API
// gives that exactly one webhook identity carried, never by a guess.
func TestPlan(t *testing.T) {
	started := ev(domain.SessionStarted{CreatedAt: 100})
	ended := ev(domain.SessionEnded{CreatedAt: 100, DestroyedAt: 900})
	tests := []struct {
		name   string
		events []domain.Event
		call   cometchat.Call
		want   domain.SessionReconciled // FetchedAt aside
		some   bool
	}{
		{
			name:   "start and end only when unknown",
			events: []domain.Event{join("Ana", "", 110)},
			call:   cometchat.Call{Status: "ended", StartedAt: 100, EndedAt: 900},
			want:   domain.SessionReconciled{StartedAt: 100, EndedAt: 900}, some: true,
		},
		{
			name:   "known start and end",
			events: []domain.Event{started, ended},
			call:   cometchat.Call{Status: "ended", StartedAt: 99, EndedAt: 901},
		},
		{
			name:   "an ongoing call's endedAt is not an end",
			events: []domain.Event{started},
			call:   cometchat.Call{Status: "ongoing", StartedAt: 100, EndedAt: 500},
		},
		{
			name:   "uid match closes the open interval, clock skew and all",
			events: []domain.Event{started, join("Ana", "u1", 110)},
			call:   cometchat.Call{Participants: []cometchat.Participant{part("u1", "", 109, 400)}},
			want:   domain.SessionReconciled{Intervals: []domain.Occupant{{UID: "u1", JoinedAt: 110, LeftAt: 400}}}, some: true,
		},
		{
			name:   "a leave the webhooks gave is never replaced",
			events: []domain.Event{started, left("Ana", "u1", 110, 300)},
			call:   cometchat.Call{Participants: []cometchat.Participant{part("u1", "", 110, 400)}},
		},
		{
			name:   "an interval overlapping a known one adds nothing",
			events: []domain.Event{started, left("Ana", "u1", 110, 300)},
			call:   cometchat.Call{Participants: []cometchat.Participant{part("u1", "", 112, 298)}},
		},
		{
			name:   "a presence the webhooks missed altogether",
			events: []domain.Event{started, left("Ana", "u1", 110, 300)},
			call:   cometchat.Call{Participants: []cometchat.Participant{part("u1", "", 500, 600)}},
			want:   domain.SessionReconciled{Intervals: []domain.Occupant{{UID: "u1", JoinedAt: 500, LeftAt: 600}}}, some: true,
		},
		{
			name:   "still present per the API, and per the webhooks",
			events: []domain.Event{started, join("Ana", "u1", 110)},
			call:   cometchat.Call{Participants: []cometchat.Participant{part("u1", "", 111, 0)}},
		},
		{
			name:   "name match when the webhooks had no uid",
			events: []domain.Event{started, join("Ana", "", 110)},
			call:   cometchat.Call{Participants: []cometchat.Participant{part("u1", "Ana", 110, 400)}},
			want:   domain.SessionReconciled{Intervals: []domain.Occupant{{Name: "Ana", JoinedAt: 110, LeftAt: 400}}}, some: true,
		},
		{
			name:   "no name from the API: unmatched, not guessed",
			events: []domain.Event{started, join("Ana", "", 110)},
			call:   cometchat.Call{Participants: []cometchat.Participant{part("u1", "", 110, 400)}},
			want:   domain.SessionReconciled{Unmatched: []domain.Occupant{{UID: "u1", JoinedAt: 110, LeftAt: 400}}}, some: true,
		},
		{
			name:   "two API users with one name: both unmatched",
			events: []domain.Event{started, join("Ana", "", 110)},
			call: cometchat.Call{Participants: []cometchat.Participant{
				part("u1", "Ana", 110, 400), part("u2", "Ana", 120, 300),
			}},
			want: domain.SessionReconciled{Unmatched: []domain.Occupant{
				{UID: "u1", Name: "Ana", JoinedAt: 110, LeftAt: 400}, {UID: "u2", Name: "Ana", JoinedAt: 120, LeftAt: 300},
			}}, some: true,
		},
		{
			name:   "one name, two webhook identities: unmatched",
			events: []domain.Event{started, join("Ana", "", 110), join("Ana", "u9", 130)},
			call:   cometchat.Call{Participants: []cometchat.Participant{part("", "Ana", 110, 400)}},
			want:   domain.SessionReconciled{Unmatched: []domain.Occupant{{Name: "Ana", JoinedAt: 110, LeftAt: 400}}}, some: true,
		},
		{
			name:   "a name carried by another user's uid is not this user",
			events: []domain.Event{started, join("Ana", "u9", 110)},
			call:   cometchat.Call{Participants: []cometchat.Participant{part("u1", "Ana", 110, 400)}},
			want:   domain.SessionReconciled{Unmatched: []domain.Occupant{{UID: "u1", Name: "Ana", JoinedAt: 110, LeftAt: 400}}}, some: true,
		},
		{
			name: "two devices of one user close two open intervals once each",
			events: []domain.Event{started, join("Ana", "u1", 110), join("Ana", "u1", 200),
				left("Ana", "u1", 110, 150)},
			call: cometchat.Call{Participants: []cometchat.Participant{part("u1", "", 110, 150), part("u1", "", 201, 500)}},
			want: domain.SessionReconciled{Intervals: []domain.Occupant{{UID: "u1", JoinedAt: 200, LeftAt: 500}}}, some: true,
		},
		{
			name: "an unmatched participant recorded before is not recorded again",
			events: []domain.Event{started, ev(domain.SessionReconciled{FetchedAt: 1,
				Unmatched: []domain.Occupant{{UID: "u1", JoinedAt: 110, LeftAt: 400}}})},
			call: cometchat.Call{Participants: []cometchat.Participant{part("u1", "", 110, 400)}},
		},
		{
			name:   "usage of a matched participant, summed over its devices; an unmatched one's is not recorded",
			events: []domain.Event{started, left("Ana", "u1", 110, 150), left("Ana", "u1", 200, 500), ended},
			call: cometchat.Call{Participants: []cometchat.Participant{
				withUsage(part("u1", "", 110, 150), 0.5, 0.25), withUsage(part("u1", "", 200, 500), 1, 4),
				withUsage(part("u7", "", 300, 400), 2, 0),
			}},
			want: domain.SessionReconciled{
				Unmatched: []domain.Occupant{{UID: "u7", JoinedAt: 300, LeftAt: 400}},
				Usage:     []domain.ParticipantUsage{{Participant: "u1", AudioMinutes: 1.5, VideoMinutes: 4.25}},
			}, some: true,
		},
		{
			name: "usage recorded before is not recorded again",
			events: []domain.Event{started, left("Ana", "u1", 110, 150), ended, ev(domain.SessionReconciled{FetchedAt: 1,
				Usage: []domain.ParticipantUsage{{Participant: "u1", AudioMinutes: 0.5}}})},
			call: cometchat.Call{Participants: []cometchat.Participant{withUsage(part("u1", "", 110, 150), 0.5, 0)}},
		},
		{
			name: "changed usage is recorded (the latest fetch wins in the fold)",
			events: []domain.Event{started, left("Ana", "u1", 110, 150), ended, ev(domain.SessionReconciled{FetchedAt: 1,
				Usage: []domain.ParticipantUsage{{Participant: "u1", AudioMinutes: 0.5}}})},
			call: cometchat.Call{Participants: []cometchat.Participant{withUsage(part("u1", "", 110, 150), 0.6, 0)}},
			want: domain.SessionReconciled{Usage: []domain.ParticipantUsage{{Participant: "u1", AudioMinutes: 0.6}}}, some: true,
		},
		{
			name:   "a participant without usage figures records none",
			events: []domain.Event{started, left("Ana", "u1", 110, 150), ended},
			call:   cometchat.Call{Participants: []cometchat.Participant{part("u1", "", 110, 150)}},
		},
		{
			name:   "never joined: ignored",
			events: []domain.Event{started},
			call:   cometchat.Call{Participants: []cometchat.Participant{{UID: "u1", State: "unanswered"}}},
		},
		{
			name:   "recordings not known yet",
			events: []domain.Event{started, ev(domain.RecordingGenerated{URL: "https://r/1", StartTime: 120, Duration: 5})},
			call: cometchat.Call{Recordings: []cometchat.Recording{
				{URL: "https://r/1", StartTime: 120, Duration: 6}, {URL: "https://r/2", StartTime: 130, EndTime: 190},
			}},
			want: domain.SessionReconciled{Recordings: []domain.RecordingGenerated{{URL: "https://r/2", StartTime: 130, Duration: 60}}}, some: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.call.SessionID = "s"
			got, some := jobs.Plan(tc.events, tc.call)
			if some != tc.some {
				t.Errorf("some = %v, want %v", some, tc.some)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
