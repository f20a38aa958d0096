package domain_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/domain/foldtest"
)

// Builders of one session's events; times are seconds after foldtest.T0.
const tApp, tSession = "app-table", "session-table"

func tEvent(kind domain.Kind, trig domain.Trigger, p domain.Payload) domain.Event {
	return domain.Event{AppID: tApp, SessionID: tSession, Kind: kind, Trigger: trig, Payload: p}
}

func tStart(at int64) domain.Event {
	return tEvent(domain.KindMeeting, cometchat.TriggerMeetingStarted, domain.SessionStarted{CreatedAt: foldtest.T0 + at})
}

func tOcc(name string, j, l int64) domain.Occupant {
	o := domain.Occupant{Name: name, JoinedAt: foldtest.T0 + j}
	if l >= 0 {
		o.LeftAt = foldtest.T0 + l
	}
	return o
}

func tJoin(name string, j int64) domain.Event {
	return tEvent(domain.KindMeeting, cometchat.TriggerMeetingParticipantJoined, domain.ParticipantJoined{Occupant: tOcc(name, j, -1)})
}

func tLeave(name string, j, l int64) domain.Event {
	return tEvent(domain.KindMeeting, cometchat.TriggerMeetingParticipantLeft, domain.ParticipantLeft{Occupant: tOcc(name, j, l)})
}

func tEnd(created, destroyed int64, occ ...domain.Occupant) domain.Event {
	return tEvent(domain.KindMeeting, cometchat.TriggerMeetingEnded,
		domain.SessionEnded{CreatedAt: foldtest.T0 + created, DestroyedAt: foldtest.T0 + destroyed, AllOccupants: occ})
}

func tRing(action string, at int64) domain.Event {
	return tEvent(domain.KindCall, domain.Trigger("call_"+action), domain.CallRinging{
		Action: action, CallID: "7", Sender: "u-caller", Receiver: "u-callee", Media: "audio",
		SentAt: foldtest.T0, UpdatedAt: foldtest.T0 + at,
	})
}

func tAbandon(last int64) domain.Event {
	return tEvent("", "", domain.SessionAbandoned{LastEventAt: foldtest.T0 + last, DecidedAt: foldtest.T0 + last + 21600})
}

func tMeeting(events ...domain.Event) domain.Meeting { return domain.Fold(events) }

func attended(m domain.Meeting) map[string]int64 {
	out := make(map[string]int64)
	for _, r := range m.Participants {
		out[r.Participant] = r.AttendedSeconds
	}
	return out
}

func TestFoldAttendedSeconds(t *testing.T) {
	meeting := func(from, to int64, evs ...domain.Event) []domain.Event {
		return append([]domain.Event{tStart(from), tEnd(from, to)}, evs...)
	}
	tests := []struct {
		name   string
		events []domain.Event
		want   map[string]int64
		joins  int
	}{
		{"disjoint", meeting(0, 100, tLeave("a", 0, 10), tLeave("a", 20, 30)), map[string]int64{"a": 20}, 2},
		{"nested", meeting(0, 100, tLeave("a", 0, 50), tLeave("a", 10, 20)), map[string]int64{"a": 50}, 2},
		{"touching", meeting(0, 100, tLeave("a", 0, 10), tLeave("a", 10, 20)), map[string]int64{"a": 20}, 2},
		{"overlapping chain", meeting(0, 100, tLeave("a", 0, 10), tLeave("a", 5, 15), tLeave("a", 12, 30)), map[string]int64{"a": 30}, 3},
		{"zero length", meeting(0, 100, tLeave("a", 10, 10)), map[string]int64{"a": 0}, 1},
		{"before the start", meeting(100, 200, tLeave("a", 0, 50)), map[string]int64{"a": 0}, 1},
		{"after the end", meeting(100, 200, tLeave("a", 250, 300)), map[string]int64{"a": 0}, 1},
		{"straddles both ends", meeting(100, 200, tLeave("a", 50, 300)), map[string]int64{"a": 100}, 1},
		{"open until the end", meeting(0, 100, tJoin("a", 40)), map[string]int64{"a": 60}, 1},
		{"open, joined after the end", meeting(0, 100, tJoin("a", 150)), map[string]int64{"a": 0}, 1},
		{"open and closed copies of one interval", meeting(0, 100, tJoin("a", 10), tLeave("a", 10, 30)), map[string]int64{"a": 20}, 1},
		{"two closed copies: the later leave wins", meeting(0, 100, tLeave("a", 10, 30), tLeave("a", 10, 50)), map[string]int64{"a": 40}, 1},
		{"open beside closed intervals", meeting(0, 100, tJoin("a", 10), tLeave("a", 20, 30)), map[string]int64{"a": 90}, 2},
		{"live: open counts up to the newest timestamp", []domain.Event{tStart(0), tJoin("a", 10), tLeave("b", 5, 70)}, map[string]int64{"a": 60, "b": 65}, 1},
		{"abandoned: open ends at the latest join/leave", []domain.Event{tStart(0), tJoin("a", 10), tLeave("b", 5, 70), tAbandon(70)}, map[string]int64{"a": 60, "b": 65}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tMeeting(tt.events...)
			if got := attended(m); !mapsEqual(got, tt.want) {
				t.Fatalf("attended %v, want %v", got, tt.want)
			}
			if got := m.Participants[0].JoinCount; got != tt.joins {
				t.Fatalf("join_count %d, want %d", got, tt.joins)
			}
		})
	}
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestFoldOpenIntervalDisplay(t *testing.T) {
	at := func(s int64) *time.Time { t := time.Unix(foldtest.T0+s, 0).UTC(); return &t }
	// Ended: the open interval shows the end; one joined after the end shows its join.
	m := tMeeting(tStart(0), tEnd(0, 100), tJoin("a", 40), tJoin("a", 150))
	r := m.Participants[0]
	if !r.Intervals[0].LeftAt.Equal(*at(100)) || !r.Intervals[1].LeftAt.Equal(*at(150)) || !r.LastLeftAt.Equal(*at(150)) {
		t.Fatalf("ended: intervals %s, last_left_at %v", mustJSON(t, r.Intervals), r.LastLeftAt)
	}
	// Live: open intervals and last_left_at are null; a closed one is shown.
	m = tMeeting(tStart(0), tLeave("a", 0, 10), tJoin("a", 20))
	r = m.Participants[0]
	if r.Intervals[0].LeftAt == nil || r.Intervals[1].LeftAt != nil || r.LastLeftAt != nil || m.EndedAt != nil {
		t.Fatalf("live: intervals %s, last_left_at %v", mustJSON(t, r.Intervals), r.LastLeftAt)
	}
	// Live, everyone gone: last_left_at is the latest leave.
	m = tMeeting(tStart(0), tLeave("a", 0, 10), tLeave("a", 20, 30))
	if r := m.Participants[0]; r.LastLeftAt == nil || !r.LastLeftAt.Equal(*at(30)) {
		t.Fatalf("live, left: last_left_at %v", r.LastLeftAt)
	}
}

func TestFoldPeakConcurrent(t *testing.T) {
	meeting := func(evs ...domain.Event) []domain.Event {
		return append([]domain.Event{tStart(0), tEnd(0, 1000)}, evs...)
	}
	tests := []struct {
		name   string
		events []domain.Event
		want   int
	}{
		{"nobody", meeting(), 0},
		{"one leaves as another joins (half-open)", meeting(tLeave("a", 0, 10), tLeave("b", 10, 20)), 1},
		{"joined in the same second", meeting(tLeave("a", 5, 10), tLeave("b", 5, 20)), 2},
		{"two devices count once", meeting(tLeave("a", 0, 100), tLeave("a", 50, 150), tLeave("b", 60, 70)), 2},
		{"nested three", meeting(tLeave("a", 0, 100), tLeave("b", 10, 90), tLeave("c", 20, 30)), 3},
		{"a zero-length interval counts for nothing", meeting(tLeave("a", 0, 100), tLeave("b", 50, 50)), 1},
		{"rejoin in the same second as the leave", meeting(tLeave("a", 0, 10), tLeave("a", 10, 20), tLeave("b", 0, 20)), 2},
		{"peak of three in a long meeting, two elsewhere", meeting(
			tLeave("a", 0, 300), tLeave("b", 100, 200), tLeave("c", 150, 160), tLeave("d", 400, 500), tLeave("e", 450, 550)), 3},
		{"presence outside the meeting does not count", []domain.Event{
			tStart(100), tEnd(100, 200), tLeave("a", 0, 50), tLeave("b", 0, 100), tLeave("c", 120, 130), tLeave("d", 200, 300)}, 1},
		{"live: someone who just joined is present", []domain.Event{tStart(0), tLeave("a", 0, 10), tJoin("b", 10)}, 1},
		{"live: two present", []domain.Event{tStart(0), tJoin("a", 5), tJoin("b", 10)}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tMeeting(tt.events...).PeakConcurrent; got != tt.want {
				t.Fatalf("peak_concurrent %d, want %d", got, tt.want)
			}
		})
	}
}

func TestFoldAttendanceRatio(t *testing.T) {
	tests := []struct {
		attended, duration int64
		want               float64
	}{
		{1, 3, 0.3333},
		{2, 3, 0.6667},
		{1, 8, 0.125},
		{1, 32, 0.0313},     // 0.03125: a half rounds up
		{1, 20000, 0.0001},  // 0.00005: a half rounds up
		{1, 20001, 0},       // just below a half
		{3, 80000, 0},       // 0.0000375
		{7, 160000, 0},      // 0.00004375
		{9, 160000, 0.0001}, // 0.00005625
		{590, 600, 0.9833},
		{599, 600, 0.9983},
		{5999, 6000, 0.9998},
		{59999, 60000, 1}, // 0.999983 rounds to 1
		{600, 600, 1},
		{0, 600, 0},
		{0, 0, 0}, // zero duration
	}
	for _, tt := range tests {
		evs := []domain.Event{tStart(0), tEnd(0, tt.duration)}
		if tt.attended > 0 {
			evs = append(evs, tLeave("a", 0, tt.attended))
		} else {
			evs = append(evs, tLeave("a", 0, 0))
		}
		m := tMeeting(evs...)
		if m.DurationSeconds != tt.duration {
			t.Fatalf("duration %d, want %d", m.DurationSeconds, tt.duration)
		}
		if got := m.Participants[0].AttendanceRatio; got != tt.want {
			t.Errorf("%d/%d: ratio %v, want %v", tt.attended, tt.duration, got, tt.want)
		}
		// JSON shows at most 4 decimals.
		b := mustJSON(t, m.Participants[0].AttendanceRatio)
		if len(b) > len("0.0000") {
			t.Errorf("%d/%d: ratio marshals as %s", tt.attended, tt.duration, b)
		}
	}
}

func TestFoldStatusAndOutcome(t *testing.T) {
	callStarted := tEvent(domain.KindCall, cometchat.TriggerCallStarted, domain.SessionStarted{CreatedAt: foldtest.T0 + 8})
	callJoined := tEvent(domain.KindCall, cometchat.TriggerCallParticipantJoined, domain.ParticipantJoined{Occupant: tOcc("a", 9, -1)})
	callEnded := tEvent(domain.KindCall, cometchat.TriggerCallEnded, domain.SessionEnded{DestroyedAt: foldtest.T0 + 30})
	recording := tEvent("", cometchat.TriggerRecordingGenerated, domain.RecordingGenerated{URL: "https://r.test/1", StartTime: foldtest.T0 + 40, Duration: 2})
	tests := []struct {
		name     string
		events   []domain.Event
		kind     domain.Kind
		status   domain.Status
		outcome  domain.Outcome
		start    int64
		end      int64 // -1: null
		duration int64
	}{
		{"ringing", []domain.Event{tRing("initiated", 0)}, domain.KindCall, domain.StatusLive, domain.OutcomeInitiated, 0, -1, 0},
		{"rejected", []domain.Event{tRing("initiated", 0), tRing("rejected", 5)}, domain.KindCall, domain.StatusEnded, domain.OutcomeRejected, 5, 5, 0},
		{"busy without initiated", []domain.Event{tRing("busy", 1)}, domain.KindCall, domain.StatusEnded, domain.OutcomeBusy, 1, 1, 0},
		{"tie: rejected beats busy", []domain.Event{tRing("busy", 5), tRing("rejected", 5)}, domain.KindCall, domain.StatusEnded, domain.OutcomeRejected, 5, 5, 0},
		{"tie: busy beats cancelled", []domain.Event{tRing("cancelled", 5), tRing("busy", 5)}, domain.KindCall, domain.StatusEnded, domain.OutcomeBusy, 5, 5, 0},
		{"tie: cancelled beats unanswered", []domain.Event{tRing("unanswered", 5), tRing("cancelled", 5)}, domain.KindCall, domain.StatusEnded, domain.OutcomeCancelled, 5, 5, 0},
		{"the latest ringing action wins", []domain.Event{tRing("rejected", 5), tRing("cancelled", 9)}, domain.KindCall, domain.StatusEnded, domain.OutcomeCancelled, 9, 9, 0},
		{"call_started beats rejected", []domain.Event{tRing("rejected", 5), callStarted}, domain.KindCall, domain.StatusLive, domain.OutcomeAnswered, 8, -1, 0},
		{"a join beats rejected", []domain.Event{tRing("initiated", 0), tRing("rejected", 5), callJoined}, domain.KindCall, domain.StatusLive, domain.OutcomeAnswered, 9, -1, 0},
		{"call_ended alone: answered", []domain.Event{callEnded}, domain.KindCall, domain.StatusEnded, domain.OutcomeAnswered, 30, 30, 0},
		{"call_ended after ringing: ends there", []domain.Event{tRing("initiated", 0), tRing("unanswered", 45), callEnded}, domain.KindCall, domain.StatusEnded, domain.OutcomeUnanswered, 0, 30, 30},
		{"meeting_started only", []domain.Event{tStart(3)}, domain.KindMeeting, domain.StatusLive, "", 3, -1, 0},
		{"a recording only", []domain.Event{recording}, domain.KindMeeting, domain.StatusLive, "", 40, -1, 0},
		{"a recording does not move the end", []domain.Event{tStart(0), tEnd(0, 20), recording}, domain.KindMeeting, domain.StatusEnded, "", 0, 20, 20},
		{"abandoned", []domain.Event{tStart(0), tJoin("a", 10), tAbandon(10)}, domain.KindMeeting, domain.StatusAbandoned, "", 0, 10, 10},
		{"abandoned without intervals ends at its start", []domain.Event{tStart(5), tAbandon(5)}, domain.KindMeeting, domain.StatusAbandoned, "", 5, 5, 0},
		{"abandoned, later join: live again", []domain.Event{tStart(0), tJoin("a", 10), tAbandon(10), tJoin("b", 20)}, domain.KindMeeting, domain.StatusLive, "", 0, -1, 20},
		{"abandoned, later end supersedes", []domain.Event{tStart(0), tJoin("a", 10), tAbandon(10), tEnd(0, 50)}, domain.KindMeeting, domain.StatusEnded, "", 0, 50, 50},
		{"an older abandonment is ignored", []domain.Event{tStart(0), tJoin("a", 10), tAbandon(5)}, domain.KindMeeting, domain.StatusLive, "", 0, -1, 10},
		{"of two ends the later destroyed_at", []domain.Event{tStart(0), tEnd(0, 50), tEnd(0, 40)}, domain.KindMeeting, domain.StatusEnded, "", 0, 50, 50},
		{"of two starts the earlier", []domain.Event{tStart(7), tStart(3), tEnd(0, 40)}, domain.KindMeeting, domain.StatusEnded, "", 3, 40, 37},
		{"end before start: duration 0", []domain.Event{tStart(50), tEnd(0, 40)}, domain.KindMeeting, domain.StatusEnded, "", 50, 40, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tMeeting(tt.events...)
			if m.Kind != tt.kind || m.Status != tt.status || m.Outcome != tt.outcome {
				t.Fatalf("kind %s, status %s, outcome %q; want %s, %s, %q", m.Kind, m.Status, m.Outcome, tt.kind, tt.status, tt.outcome)
			}
			if want := time.Unix(foldtest.T0+tt.start, 0).UTC(); !m.StartedAt.Equal(want) {
				t.Fatalf("started_at %v, want %v", m.StartedAt, want)
			}
			switch {
			case tt.end < 0 && m.EndedAt != nil:
				t.Fatalf("ended_at %v, want null", m.EndedAt)
			case tt.end >= 0 && (m.EndedAt == nil || !m.EndedAt.Equal(time.Unix(foldtest.T0+tt.end, 0))):
				t.Fatalf("ended_at %v, want +%d", m.EndedAt, tt.end)
			}
			if m.DurationSeconds != tt.duration {
				t.Fatalf("duration %d, want %d", m.DurationSeconds, tt.duration)
			}
		})
	}
}

func TestFoldParticipantAttributes(t *testing.T) {
	yes, no := true, false
	joinWith := func(uid, name string, j int64, audio *bool, client *domain.ClientInfo) domain.Event {
		o := domain.Occupant{UID: uid, Name: name, JoinedAt: foldtest.T0 + j, AudioOnly: audio}
		return tEvent(domain.KindMeeting, cometchat.TriggerMeetingParticipantJoined, domain.ParticipantJoined{Occupant: o, Client: client})
	}
	t.Run("name tie in the same second", func(t *testing.T) {
		for _, evs := range [][]domain.Event{
			{joinWith("u", "Bea", 10, nil, nil), joinWith("u", "Abe", 20, nil, nil), joinWith("u", "Cal", 20, nil, nil)},
			{joinWith("u", "Cal", 20, nil, nil), joinWith("u", "Abe", 20, nil, nil), joinWith("u", "Bea", 10, nil, nil)},
		} {
			if got := tMeeting(evs...).Participants[0].Name; got != "Cal" {
				t.Fatalf("name %q, want Cal", got)
			}
		}
	})
	t.Run("a leave names at its left_at", func(t *testing.T) {
		leave := tEvent(domain.KindMeeting, cometchat.TriggerMeetingParticipantLeft,
			domain.ParticipantLeft{Occupant: domain.Occupant{UID: "u", Name: "Late", JoinedAt: foldtest.T0, LeftAt: foldtest.T0 + 50}})
		if got := tMeeting(leave, joinWith("u", "Early", 30, nil, nil)).Participants[0].Name; got != "Late" {
			t.Fatalf("name %q, want Late", got)
		}
	})
	audio := []struct {
		name  string
		flags []*bool
		want  *bool
	}{
		{"never sent", []*bool{nil, nil}, nil},
		{"always audio-only", []*bool{&yes, nil, &yes}, &yes},
		{"video once", []*bool{&yes, &no}, &no},
	}
	for _, tt := range audio {
		t.Run("audio_only "+tt.name, func(t *testing.T) {
			var evs []domain.Event
			for i, f := range tt.flags {
				evs = append(evs, joinWith("", "a", int64(i), f, nil))
			}
			got := tMeeting(evs...).Participants[0].AudioOnly
			if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
				t.Fatalf("audio_only %s, want %s", mustJSON(t, got), mustJSON(t, tt.want))
			}
		})
	}
	t.Run("client info: the newest join, ties by value, platform and sdk together", func(t *testing.T) {
		evs := []domain.Event{
			joinWith("", "a", 10, nil, &domain.ClientInfo{Platform: "web", SDK: "react"}),
			joinWith("", "a", 30, nil, &domain.ClientInfo{Platform: "android", SDK: "android"}),
			joinWith("", "a", 30, nil, &domain.ClientInfo{Platform: "ios", SDK: "ios"}),
			joinWith("", "a", 40, nil, nil),
		}
		for range 2 {
			r := tMeeting(evs...).Participants[0]
			if r.Platform != "ios" || r.SDK != "ios" {
				t.Fatalf("platform %q sdk %q, want ios ios", r.Platform, r.SDK)
			}
			slices.Reverse(evs)
		}
	})
	t.Run("ringing attributes: call_initiated's first", func(t *testing.T) {
		rej := tRing("rejected", 5)
		r := rej.Payload.(domain.CallRinging)
		r.Sender, r.Media = "a-impostor", "video"
		rej.Payload = r
		m := tMeeting(rej, tRing("initiated", 0))
		if m.Initiator != "u-caller" || m.Media != "audio" || m.Receiver != "u-callee" {
			t.Fatalf("initiator %q media %q receiver %q", m.Initiator, m.Media, m.Receiver)
		}
		if m.InitiatedAt == nil || !m.InitiatedAt.Equal(time.Unix(foldtest.T0, 0)) {
			t.Fatalf("initiated_at %v", m.InitiatedAt)
		}
	})
}

func TestFoldRecordingsAndTranscripts(t *testing.T) {
	rec := func(url string, start int64, dur float64) domain.Event {
		return tEvent("", cometchat.TriggerRecordingGenerated, domain.RecordingGenerated{URL: url, StartTime: start, Duration: dur})
	}
	reconciled := tEvent("", "", domain.SessionReconciled{FetchedAt: foldtest.T0 + 9000,
		Recordings: []domain.RecordingGenerated{{URL: "https://r/b", StartTime: foldtest.T0 + 1, Duration: 99}}})
	m := tMeeting(rec("https://r/b", foldtest.T0+1, 2), rec("https://r/a", foldtest.T0+1, 3), rec("https://r/c", 0, 1),
		rec("https://r/z", foldtest.T0, 1), reconciled)
	var got []string
	for _, r := range m.Recordings {
		got = append(got, r.URL)
	}
	if want := []string{"https://r/z", "https://r/a", "https://r/b", "https://r/c"}; !slices.Equal(got, want) {
		t.Fatalf("recordings %v, want %v (by start, then URL, unknown start last)", got, want)
	}
	if m.Recordings[2].DurationSeconds != 2 {
		t.Fatalf("the webhook's copy must win over the REST API's: %s", mustJSON(t, m.Recordings[2]))
	}
	if m.Recordings[3].StartedAt != nil {
		t.Fatalf("unknown start must be null: %s", mustJSON(t, m.Recordings[3]))
	}
	var decoded map[string]any
	if err := json.Unmarshal(mustJSON(t, m), &decoded); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"recordings", "transcriptions", "participants"} {
		if _, ok := decoded[k].([]any); !ok {
			t.Errorf("%s must be an array, even when empty: %v", k, decoded[k])
		}
	}
}
