package expect_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/meetingd/meetingd/internal/corpus"
	"github.com/meetingd/meetingd/internal/corpus/expect"
)

// Worked examples of API.md's report semantics, computed by hand.

const t0 = 1_700_000_000 // 2023-11-14T22:13:20Z, a Tuesday

func ts(sec int64) time.Time  { return time.Unix(t0+sec, 0).UTC() }
func tp(sec int64) *time.Time { t := ts(sec); return &t }
func bp(b bool) *bool         { return &b }
func occ(name string, j, l int64) *corpus.Occupant {
	o := corpus.Occupant{Name: name, JoinedAt: t0 + j}
	if l != 0 {
		o.LeftAt = t0 + l
	}
	return &o
}
func all(os ...*corpus.Occupant) []corpus.Occupant {
	out := []corpus.Occupant{}
	for _, o := range os {
		out = append(out, *o)
	}
	return out
}

func started(at int64) corpus.Event {
	return corpus.Event{Trigger: "meeting_started", Type: "meet", CreatedAt: t0 + at}
}
func ended(created, destroyed int64, occupants []corpus.Occupant) corpus.Event {
	return corpus.Event{Trigger: "meeting_ended", Type: "meet", CreatedAt: t0 + created, DestroyedAt: t0 + destroyed, AllOccupants: occupants}
}
func joined(o *corpus.Occupant) corpus.Event {
	return corpus.Event{Trigger: "meeting_participant_joined", Type: "meet", Occupant: o}
}
func left(o *corpus.Occupant) corpus.Event {
	return corpus.Event{Trigger: "meeting_participant_left", Type: "meet", Occupant: o}
}
func ring(action string, at int64) corpus.Event {
	return corpus.Event{Trigger: "call_" + action, Ringing: &corpus.Ringing{
		CallID: "7", Action: action, Sender: "uid-a", SenderName: "A", Receiver: "uid-b", Media: "video",
		SentAt: t0 + at, InitiatedAt: t0,
	}}
}

func session(events ...corpus.Event) corpus.Session {
	return corpus.Session{AppID: "app", SessionID: "s", Events: events}
}

func TestCompute(t *testing.T) {
	for _, tc := range []struct {
		name   string
		events []corpus.Event
		want   expect.Meeting
	}{
		{
			name: "rejoin, a second device, a late join still open at the end",
			// Ann: [0,100) and [200,400), and [50,150) from a phone: union [0,150)+[200,400) = 350 s.
			// Bob joins at 300 and never leaves: closed at the end (600), 300 s.
			events: []corpus.Event{
				started(0), joined(occ("Ann", 0, 0)), left(occ("Ann", 0, 100)), left(occ("Ann", 50, 150)),
				joined(occ("Ann", 200, 0)), left(occ("Ann", 200, 400)), joined(occ("Bob", 300, 0)),
				ended(0, 600, nil),
			},
			want: expect.Meeting{
				Kind: "meeting", Status: "ended", StartedAt: ts(0), EndedAt: tp(600), DurationSeconds: 600,
				ParticipantCount: 2, PeakConcurrent: 2, TotalAttendanceSeconds: 650,
				Participants: []expect.Row{
					{Participant: "Ann", Name: "Ann", FirstJoinedAt: ts(0), LastLeftAt: tp(400), AttendedSeconds: 350,
						AttendanceRatio: 0.5833, JoinCount: 3, AudioOnly: bp(false), Intervals: []expect.Interval{
							{JoinedAt: ts(0), LeftAt: tp(100)}, {JoinedAt: ts(50), LeftAt: tp(150)}, {JoinedAt: ts(200), LeftAt: tp(400)}}},
					{Participant: "Bob", Name: "Bob", FirstJoinedAt: ts(300), LastLeftAt: tp(600), AttendedSeconds: 300,
						AttendanceRatio: 0.5, JoinCount: 1, AudioOnly: bp(false), Intervals: []expect.Interval{{JoinedAt: ts(300), LeftAt: tp(600)}}},
				},
			},
		},
		{
			name: "no meeting_started: started_at is meeting_ended's created_at; a join before it is clipped; all_occupants fills a gap",
			events: []corpus.Event{
				left(occ("Cy", 5, 50)), ended(10, 110, all(occ("Cy", 5, 50), occ("Di", 60, 110))),
			},
			want: expect.Meeting{
				Kind: "meeting", Status: "ended", StartedAt: ts(10), EndedAt: tp(110), DurationSeconds: 100,
				ParticipantCount: 2, PeakConcurrent: 1, TotalAttendanceSeconds: 90,
				Participants: []expect.Row{
					{Participant: "Cy", Name: "Cy", FirstJoinedAt: ts(5), LastLeftAt: tp(50), AttendedSeconds: 40,
						AttendanceRatio: 0.4, JoinCount: 1, AudioOnly: bp(false), Intervals: []expect.Interval{{JoinedAt: ts(5), LeftAt: tp(50)}}},
					{Participant: "Di", Name: "Di", FirstJoinedAt: ts(60), LastLeftAt: tp(110), AttendedSeconds: 50,
						AttendanceRatio: 0.5, JoinCount: 1, AudioOnly: bp(false), Intervals: []expect.Interval{{JoinedAt: ts(60), LeftAt: tp(110)}}},
				},
			},
		},
		{
			name: "live: no end, measured up to the newest timestamp; two join in one second; half-open peak",
			// Eve [0,30), Fay [0,open), Gus [30,40): at 30 Eve leaves as Gus joins, so never three.
			events: []corpus.Event{
				joined(occ("Eve", 0, 0)), joined(occ("Fay", 0, 0)), left(occ("Eve", 0, 30)), left(occ("Gus", 30, 40)),
			},
			want: expect.Meeting{
				Kind: "meeting", Status: "live", StartedAt: ts(0), DurationSeconds: 40,
				ParticipantCount: 3, PeakConcurrent: 2, TotalAttendanceSeconds: 80,
				Participants: []expect.Row{
					{Participant: "Eve", Name: "Eve", FirstJoinedAt: ts(0), LastLeftAt: tp(30), AttendedSeconds: 30,
						AttendanceRatio: 0.75, JoinCount: 1, AudioOnly: bp(false), Intervals: []expect.Interval{{JoinedAt: ts(0), LeftAt: tp(30)}}},
					{Participant: "Fay", Name: "Fay", FirstJoinedAt: ts(0), AttendedSeconds: 40,
						AttendanceRatio: 1, JoinCount: 1, AudioOnly: bp(false), Intervals: []expect.Interval{{JoinedAt: ts(0)}}},
					{Participant: "Gus", Name: "Gus", FirstJoinedAt: ts(30), LastLeftAt: tp(40), AttendedSeconds: 10,
						AttendanceRatio: 0.25, JoinCount: 1, AudioOnly: bp(false), Intervals: []expect.Interval{{JoinedAt: ts(30), LeftAt: tp(40)}}},
				},
			},
		},
		{
			name: "uid identity, the newest name, client and audio flags",
			events: []corpus.Event{
				started(0),
				{Trigger: "meeting_participant_joined", Type: "meet", Occupant: &corpus.Occupant{UID: "u1", Name: "Hal", JoinedAt: t0, AudioCall: true},
					Client: &corpus.Client{Platform: "web", SDK: "react", AudioOnly: true}},
				{Trigger: "meeting_participant_joined", Type: "meet", Occupant: &corpus.Occupant{UID: "u1", Name: "Hal (mobile)", JoinedAt: t0 + 20, AudioCall: false},
					Client: &corpus.Client{Platform: "ios", SDK: "ios"}},
				ended(0, 30, nil),
			},
			want: expect.Meeting{
				Kind: "meeting", Status: "ended", StartedAt: ts(0), EndedAt: tp(30), DurationSeconds: 30,
				ParticipantCount: 1, PeakConcurrent: 1, TotalAttendanceSeconds: 30,
				Participants: []expect.Row{
					{Participant: "u1", Name: "Hal (mobile)", FirstJoinedAt: ts(0), LastLeftAt: tp(30), AttendedSeconds: 30,
						AttendanceRatio: 1, JoinCount: 2, AudioOnly: bp(false), Platform: "ios", SDK: "ios",
						Intervals: []expect.Interval{{JoinedAt: ts(0), LeftAt: tp(30)}, {JoinedAt: ts(20), LeftAt: tp(30)}}},
				},
			},
		},
		{
			name:   "a rejected call ends when the ringing does, with no duration",
			events: []corpus.Event{ring("initiated", 0), ring("rejected", 12)},
			want: expect.Meeting{
				Kind: "call", Status: "ended", StartedAt: ts(12), EndedAt: tp(12), Outcome: "rejected",
				Initiator: "uid-a", Receiver: "uid-b", Media: "video",
			},
		},
		{
			name:   "a call still ringing",
			events: []corpus.Event{ring("initiated", 0)},
			want: expect.Meeting{
				Kind: "call", Status: "live", StartedAt: ts(0), Outcome: "initiated",
				Initiator: "uid-a", Receiver: "uid-b", Media: "video",
			},
		},
		{
			name: "an answered call",
			events: []corpus.Event{
				ring("initiated", 0), {Trigger: "call_started", Type: "call", CreatedAt: t0 + 5},
				{Trigger: "call_participant_left", Type: "call", Occupant: occ("Ike", 5, 65)},
				{Trigger: "call_ended", Type: "call", CreatedAt: t0 + 5, DestroyedAt: t0 + 65, AllOccupants: all(occ("Jo", 6, 65))},
				{Trigger: "recording_generated", Recording: &corpus.Recording{URL: "r1", StartTime: t0 + 5, Duration: 59.5, Date: "2023-11-14"}},
			},
			want: expect.Meeting{
				Kind: "call", Status: "ended", StartedAt: ts(5), EndedAt: tp(65), DurationSeconds: 60, Outcome: "answered",
				Initiator: "uid-a", Receiver: "uid-b", Media: "video",
				ParticipantCount: 2, PeakConcurrent: 2, TotalAttendanceSeconds: 119,
				Recordings: []expect.Recording{{URL: "r1", StartedAt: tp(5), DurationSeconds: 59.5, RecordingDate: "2023-11-14"}},
				Participants: []expect.Row{
					{Participant: "Ike", Name: "Ike", FirstJoinedAt: ts(5), LastLeftAt: tp(65), AttendedSeconds: 60,
						AttendanceRatio: 1, JoinCount: 1, AudioOnly: bp(false), Intervals: []expect.Interval{{JoinedAt: ts(5), LeftAt: tp(65)}}},
					{Participant: "Jo", Name: "Jo", FirstJoinedAt: ts(6), LastLeftAt: tp(65), AttendedSeconds: 59,
						AttendanceRatio: 0.9833, JoinCount: 1, AudioOnly: bp(false), Intervals: []expect.Interval{{JoinedAt: ts(6), LeftAt: tp(65)}}},
				},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.want.AppID, tc.want.SessionID = "app", "s"
			got := expect.Compute(session(tc.events...))
			// The media split is TestMediaAndUsage's: here it must only add up.
			for _, r := range got.Participants {
				if r.AudioSeconds+r.VideoSeconds != r.AttendedSeconds {
					t.Errorf("%s: audio %d + video %d != attended %d", r.Participant, r.AudioSeconds, r.VideoSeconds, r.AttendedSeconds)
				}
			}
			if got.AudioSeconds+got.VideoSeconds != got.TotalAttendanceSeconds {
				t.Errorf("meeting audio + video != total attendance")
			}
			ignore := cmp.Options{cmpopts.IgnoreFields(expect.Row{}, "AudioSeconds", "VideoSeconds"),
				cmpopts.IgnoreFields(expect.Meeting{}, "AudioSeconds", "VideoSeconds")}
			if d := cmp.Diff(tc.want, got, cmpopts.EquateEmpty(), ignore); d != "" {
				t.Fatalf("(-want +got)\n%s", d)
			}
		})
	}
}

func TestModelQueries(t *testing.T) {
	// Three ended meetings and a live one of app "a", one of app "b":
	// Sunday 2023-11-19 23:30 (week of Monday the 13th), Monday the 20th 00:10
	// and 00:50, Tuesday the 21st (live).
	sun := time.Date(2023, 11, 19, 23, 30, 0, 0, time.UTC).Unix() - t0
	mk := func(app, id string, start, length int64, people ...string) corpus.Session {
		s := corpus.Session{AppID: app, SessionID: id, Events: []corpus.Event{started(start)}}
		for _, p := range people {
			s.Events = append(s.Events, left(occ(p, start, start+length)))
		}
		if length > 0 {
			s.Events = append(s.Events, ended(start, start+length, nil))
		}
		return s
	}
	md := expect.New([]corpus.Session{
		mk("a", "m1", sun, 600, "Ann", "Bob"),
		mk("a", "m2", sun+40*60, 1200, "Ann"),
		mk("a", "m3", sun+80*60, 60, "Cy"),
		mk("a", "m4", sun+48*3600, 0, "Ann"),
		mk("b", "m5", sun, 60, "Ann"),
	})
	ids := func(ms []expect.Meeting) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.SessionID)
		}
		return out
	}
	mon := time.Date(2023, 11, 20, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		q    expect.ListQuery
		want []string
	}{
		{expect.ListQuery{}, []string{"m4", "m3", "m2", "m1"}},
		{expect.ListQuery{From: mon}, []string{"m4", "m3", "m2"}},
		{expect.ListQuery{To: mon.Add(time.Hour)}, []string{"m3", "m2", "m1"}},
		{expect.ListQuery{Status: "live"}, []string{"m4"}},
		{expect.ListQuery{Participant: "Ann", Status: "ended"}, []string{"m2", "m1"}},
	} {
		if got := ids(md.List("a", tc.q)); !cmp.Equal(got, tc.want) {
			t.Errorf("List(%+v) = %v, want %v", tc.q, got, tc.want)
		}
	}

	rep := md.Participant("a", "Ann", time.Time{}, mon.Add(24*time.Hour))
	if rep.MeetingsAttended != 2 || rep.TotalAttendedSeconds != 1800 || rep.Meetings[0].SessionID != "m2" {
		t.Errorf("Participant(Ann) = %+v, want m2 then m1, 1800 s", rep)
	}

	for _, tc := range []struct {
		width string
		want  []expect.Bucket
	}{
		{"week", []expect.Bucket{
			{Start: time.Date(2023, 11, 13, 0, 0, 0, 0, time.UTC), Meetings: 1, TotalDurationSeconds: 600, AvgDurationSeconds: 600, MaxDurationSeconds: 600, UniqueParticipants: 2, AttendanceSeconds: 1200},
			{Start: mon, Meetings: 2, TotalDurationSeconds: 1260, AvgDurationSeconds: 630, MaxDurationSeconds: 1200, UniqueParticipants: 2, AttendanceSeconds: 1260},
		}},
		{"hour", []expect.Bucket{
			{Start: mon.Add(-time.Hour), Meetings: 1, TotalDurationSeconds: 600, AvgDurationSeconds: 600, MaxDurationSeconds: 600, UniqueParticipants: 2, AttendanceSeconds: 1200},
			{Start: mon, Meetings: 2, TotalDurationSeconds: 1260, AvgDurationSeconds: 630, MaxDurationSeconds: 1200, UniqueParticipants: 2, AttendanceSeconds: 1260},
		}},
	} {
		got := md.Durations("a", mon.Add(-7*24*time.Hour), mon.Add(7*24*time.Hour), tc.width, nil)
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("Durations(%s) (-want +got)\n%s", tc.width, d)
		}
	}
}

// TestMediaAndUsage: each interval's medium from all its reports, the split
// of a participant's time, and the usage buckets in a +05:30 zone.
func TestMediaAndUsage(t *testing.T) {
	audio := func(o *corpus.Occupant, v bool) *corpus.Occupant { c := *o; c.AudioCall = v; return &c }
	// Ann: [0,300) audio in every report; [200,500) video: 300 video + 200 audio.
	// Bob: [100,400) joins with audio_call true but initial_config false: video 300.
	// Cy: [100,160) audio per join, all_occupants says video: video 60.
	bobJoin := joined(audio(occ("Bob", 100, 0), true))
	bobJoin.Client = &corpus.Client{Platform: "web", SDK: "react", AudioOnly: false}
	s := session(
		started(0),
		joined(audio(occ("Ann", 0, 0), true)), left(audio(occ("Ann", 0, 300), true)),
		joined(audio(occ("Ann", 200, 0), false)), left(audio(occ("Ann", 200, 500), false)),
		bobJoin, left(audio(occ("Bob", 100, 400), true)),
		joined(audio(occ("Cy", 100, 0), true)),
		ended(0, 1000, all(audio(occ("Cy", 100, 160), false))),
	)
	m := expect.Compute(s)
	got := map[string][2]int64{}
	for _, r := range m.Participants {
		got[r.Participant] = [2]int64{r.AudioSeconds, r.VideoSeconds}
	}
	want := map[string][2]int64{"Ann": {200, 300}, "Bob": {0, 300}, "Cy": {0, 60}}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("audio/video seconds (-want +got)\n%s", d)
	}
	if m.AudioSeconds != 200 || m.VideoSeconds != 660 || m.TotalAttendanceSeconds != 860 {
		t.Fatalf("meeting audio %d video %d total %d", m.AudioSeconds, m.VideoSeconds, m.TotalAttendanceSeconds)
	}

	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	md := expect.New([]corpus.Session{s})
	u := md.Usage("app", ts(-86400), ts(86400), "day", kolkata, "0.001", "0.003")
	// t0 is 2023-11-14T22:13:20Z = 2023-11-15 03:43:20 +05:30.
	wantU := []expect.UsageBucket{{Start: time.Date(2023, 11, 15, 0, 0, 0, 0, kolkata), Meetings: 1, Participants: 3,
		AttendanceSeconds: 860, AudioSeconds: 200, VideoSeconds: 660, BillableAudioMinutes: 4, BillableVideoMinutes: 5 + 5 + 1,
		EstimatedCost: 0.037}}
	if d := cmp.Diff(wantU, u, cmpopts.EquateApprox(0, 1e-12)); d != "" {
		t.Fatalf("usage (-want +got)\n%s", d)
	}
}
