package clickhouse_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/reports"
)

var testBase = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC).Unix() // a Monday

var people = []domain.Occupant{
	{Name: "Ann"}, {UID: "u-bob", Name: "Bob"}, {Name: "Cy"}, {UID: "u-dee", Name: "Dee"},
	{Name: "Eve"}, {UID: "u-fay", Name: "Fay"}, {Name: "Gus"}, {Name: "Hal"},
}

// randomSession returns the events of one session in a shuffled order: with
// or without meeting_started (then started_at moves when an earlier join
// arrives), rejoins, leaves, an end, recordings; some are calls.
func randomSession(r *rand.Rand, app, session string, t0 int64) []domain.Event {
	kind := domain.KindMeeting
	started, joined, left, ended := cometchat.TriggerMeetingStarted, cometchat.TriggerMeetingParticipantJoined,
		cometchat.TriggerMeetingParticipantLeft, cometchat.TriggerMeetingEnded
	if r.IntN(5) == 0 {
		kind = domain.KindCall
		started, joined, left, ended = cometchat.TriggerCallStarted, cometchat.TriggerCallParticipantJoined,
			cometchat.TriggerCallParticipantLeft, cometchat.TriggerCallEnded
	}
	ev := func(trig domain.Trigger, p domain.Payload) domain.Event {
		k := kind
		if trig == cometchat.TriggerRecordingGenerated {
			k = ""
		}
		return domain.Event{AppID: app, SessionID: session, Kind: k, Trigger: trig, Payload: p}
	}
	var out []domain.Event
	if r.IntN(4) != 0 {
		out = append(out, ev(started, domain.SessionStarted{CreatedAt: t0}))
	}
	end := t0 + 600 + int64(r.IntN(3000))
	for _, i := range r.Perm(len(people))[:1+r.IntN(5)] {
		o := people[i]
		j := t0 - 60 + int64(r.IntN(600))
		for range 1 + r.IntN(2) {
			o.JoinedAt = j
			out = append(out, ev(joined, domain.ParticipantJoined{Occupant: o}))
			if r.IntN(3) != 0 {
				o.LeftAt = j + 30 + int64(r.IntN(900))
				out = append(out, ev(left, domain.ParticipantLeft{Occupant: o}))
				j = o.LeftAt + int64(r.IntN(120))
				o.LeftAt = 0
			} else {
				break
			}
		}
	}
	if r.IntN(4) != 0 {
		out = append(out, ev(ended, domain.SessionEnded{CreatedAt: t0, DestroyedAt: end}))
	}
	if r.IntN(3) == 0 {
		out = append(out, ev(cometchat.TriggerRecordingGenerated, domain.RecordingGenerated{
			URL: fmt.Sprintf("https://rec.example/%s/%s.mp4", app, session), StartTime: t0 + 5, Duration: 123.25,
			RecordingDate: "2026-03-02"}))
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// corpus returns n random sessions' events over two apps and several days,
// interleaved as live traffic is, and the sessions' keys.
func corpus(seed uint64, n int) ([]domain.Event, []reports.SessionKey) {
	r := rand.New(rand.NewPCG(seed, 99))
	var lists [][]domain.Event
	var keys []reports.SessionKey
	for i := range n {
		app := []string{"app-a", "app-b"}[i%2]
		s := fmt.Sprintf("s-%03d", i)
		t0 := testBase + int64(i)*2711 + int64(r.IntN(600))
		lists = append(lists, randomSession(r, app, s, t0))
		keys = append(keys, reports.SessionKey{AppID: app, SessionID: s})
	}
	var all []domain.Event
	for len(lists) > 0 {
		i := r.IntN(len(lists))
		all = append(all, lists[i][0])
		if lists[i] = lists[i][1:]; len(lists[i]) == 0 {
			lists = slices.Delete(lists, i, i+1)
		}
	}
	return all, keys
}

// openLog opens an embedded event log in a new directory holding evs.
func openLog(t *testing.T, evs []domain.Event) *embedded.Store {
	t.Helper()
	st, err := embedded.Open(t.Context(), embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	appendEvents(t, st, evs)
	return st
}

func appendEvents(t *testing.T, st *embedded.Store, evs []domain.Event) {
	t.Helper()
	for _, e := range evs {
		data, err := codec.MarshalEvent(e)
		if err != nil {
			t.Fatal(err)
		}
		_, err = st.Append(t.Context(), domain.StreamName(e.AppID, e.SessionID), eventstore.Any,
			eventstore.Event{ID: domain.EventID(e), Type: e.Type(), Data: data})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// sameReports checks that got answers every query as want does: every
// meeting, every page of the meeting lists (by status and participant),
// every participant's attendance and every duration bucketing.
func sameReports(t *testing.T, want, got reports.Store, keys []reports.SessionKey) {
	t.Helper()
	ctx := t.Context()
	eq := func(what string, w, g any, werr, gerr error) {
		t.Helper()
		wj, _ := json.Marshal(w)
		gj, _ := json.Marshal(g)
		if fmt.Sprint(werr) != fmt.Sprint(gerr) && (werr == nil || gerr == nil) {
			t.Errorf("%s: error %v, want %v", what, gerr, werr)
			return
		}
		if string(wj) != string(gj) {
			t.Errorf("%s:\n got: %s\nwant: %s", what, gj, wj)
		}
	}
	apps := map[string]bool{}
	for _, k := range keys {
		apps[k.AppID] = true
		w, werr := want.Meeting(ctx, k)
		g, gerr := got.Meeting(ctx, k)
		eq("Meeting("+k.SessionID+")", w, g, werr, gerr)
	}
	for app := range apps {
		for _, st := range []domain.Status{"", domain.StatusLive, domain.StatusEnded, domain.StatusAbandoned} {
			for _, p := range append([]string{""}, identities()...) {
				q := reports.MeetingQuery{AppID: app, Status: st, Participant: p, Limit: 7}
				for page := 0; ; page++ {
					w, werr := want.Meetings(ctx, q)
					g, gerr := got.Meetings(ctx, q)
					eq(fmt.Sprintf("Meetings(%s %q %q page %d)", app, st, p, page), w, g, werr, gerr)
					if w.NextCursor == "" || werr != nil || page > 100 {
						break
					}
					q.Cursor = w.NextCursor
				}
			}
		}
		for _, p := range identities() {
			q := reports.ParticipantQuery{AppID: app, Participant: p}
			w, werr := want.ParticipantAttendance(ctx, q)
			g, gerr := got.ParticipantAttendance(ctx, q)
			eq("ParticipantAttendance("+app+" "+p+")", w, g, werr, gerr)
		}
		for _, b := range []reports.Bucket{reports.Hour, reports.Day, reports.Week} {
			q := reports.DurationQuery{AppID: app, Bucket: b}
			w, werr := want.Durations(ctx, q)
			g, gerr := got.Durations(ctx, q)
			eq("Durations("+app+" "+string(b)+")", w, g, werr, gerr)
		}
	}
}

func identities() []string {
	var out []string
	for _, p := range people {
		out = append(out, p.Identity())
	}
	return out
}
