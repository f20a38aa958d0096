package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/api"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/erasure"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/intake"
	"github.com/meetingd/meetingd/privacy"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/reports"
)

// fakeReports is a hand-written fake of reports.Store: meetings keyed by
// app and session, a canned page, participant report and buckets; it records
// the last query of each kind. failWith makes every query fail.
type fakeReports struct {
	mu           sync.Mutex
	meetings     map[reports.SessionKey]domain.Meeting
	page         reports.MeetingPage
	participant  reports.ParticipantReport
	buckets      []reports.DurationBucket
	failWith     error
	badCursor    string // Meetings answers ErrBadCursor for this cursor
	lastKey      reports.SessionKey
	lastMeetings reports.MeetingQuery
	lastPart     reports.ParticipantQuery
	lastDur      reports.DurationQuery
	usage        []reports.UsageBucket
	lastUsage    reports.UsageQuery
}

func (f *fakeReports) Meeting(ctx context.Context, key reports.SessionKey) (domain.Meeting, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastKey = key
	if f.failWith != nil {
		return domain.Meeting{}, f.failWith
	}
	m, ok := f.meetings[key]
	if !ok {
		return domain.Meeting{}, reports.ErrNotFound
	}
	return m, nil
}

func (f *fakeReports) Meetings(ctx context.Context, q reports.MeetingQuery) (reports.MeetingPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastMeetings = q
	if f.failWith != nil {
		return reports.MeetingPage{}, f.failWith
	}
	if f.badCursor != "" && q.Cursor == f.badCursor {
		return reports.MeetingPage{}, reports.ErrBadCursor
	}
	return f.page, nil
}

func (f *fakeReports) ParticipantAttendance(ctx context.Context, q reports.ParticipantQuery) (reports.ParticipantReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastPart = q
	if f.failWith != nil {
		return reports.ParticipantReport{}, f.failWith
	}
	if f.badCursor != "" && q.Cursor == f.badCursor {
		return reports.ParticipantReport{}, reports.ErrBadCursor
	}
	return f.participant, nil
}

func (f *fakeReports) Durations(ctx context.Context, q reports.DurationQuery) ([]reports.DurationBucket, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastDur = q
	if f.failWith != nil {
		return nil, f.failWith
	}
	return f.buckets, nil
}

// fakeStatus is a hand-written fake of api.StatusSource.
type fakeStatus struct {
	progress projections.Progress
	failWith error
}

func (f *fakeStatus) Status(ctx context.Context) (projections.Progress, error) {
	return f.progress, f.failWith
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func ptr[T any](v T) *T { return &v }

// sampleMeeting is an ended meeting of app-1 with two participants, given in
// a non-UTC zone and out of order: the answers must be UTC and sorted.
func sampleMeeting() domain.Meeting {
	cet := time.FixedZone("CET", 3600)
	return domain.Meeting{
		AppID: "app-1", SessionID: "s-1", Kind: domain.KindMeeting, Status: domain.StatusEnded,
		StartedAt: at("2023-10-10T10:00:00Z").In(cet), EndedAt: ptr(at("2023-10-10T11:00:00Z").In(cet)),
		DurationSeconds: 3600, ParticipantCount: 2, PeakConcurrent: 2, TotalAttendanceSeconds: 4500,
		AudioSeconds: 700, VideoSeconds: 3800,
		ProviderUsage: &domain.ProviderUsage{Participants: 1, AudioSeconds: 690, VideoSeconds: 2010,
			AudioDifferenceSeconds: 10, VideoDifferenceSeconds: -10},
		Recordings: []domain.Recording{{URL: "https://rec.example/1.mp4", StartedAt: ptr(at("2023-10-10T10:05:00Z")),
			DurationSeconds: 120.5, RecordingDate: "2023-10-10"}},
		Participants: []domain.Attendance{
			{
				Participant: "=cmd|' /C calc'!A0", Name: "Mallory, \"the\" tester", FirstJoinedAt: at("2023-10-10T10:10:00Z"),
				LastLeftAt: nil, AttendedSeconds: 1800, AttendanceRatio: 0.5, JoinCount: 1, VideoSeconds: 1800,
				Intervals: []domain.Interval{{JoinedAt: at("2023-10-10T10:10:00Z").In(cet)}},
			},
			{
				Participant: "uid-1", Name: "Andrew Joseph", FirstJoinedAt: at("2023-10-10T10:00:00Z"),
				LastLeftAt: ptr(at("2023-10-10T10:50:00Z")), AttendedSeconds: 2700, AttendanceRatio: 0.75, JoinCount: 2,
				AudioSeconds: 700, VideoSeconds: 2000,
				Intervals: []domain.Interval{
					{JoinedAt: at("2023-10-10T10:00:00Z"), LeftAt: ptr(at("2023-10-10T10:30:00Z"))},
					{JoinedAt: at("2023-10-10T10:35:00Z"), LeftAt: ptr(at("2023-10-10T10:50:00Z"))},
				},
				AudioOnly: ptr(false), Platform: "web", SDK: "javascript",
			},
		},
		LastEventAt: at("2023-10-10T11:00:00Z"),
	}
}

func sampleCall() domain.Meeting {
	return domain.Meeting{
		AppID: "app-1", SessionID: "call-1", Kind: domain.KindCall, Status: domain.StatusLive,
		StartedAt: at("2023-10-11T09:00:00Z"), Outcome: domain.OutcomeAnswered, Initiator: "uid-1",
		InitiatorName: "Andrew", Receiver: "uid-2", ReceiverType: "user", Media: "video",
		InitiatedAt: ptr(at("2023-10-11T08:59:50Z")), LastEventAt: at("2023-10-11T09:10:00Z"),
		DurationSeconds: 600, Transcriptions: []domain.Transcription{{URL: "https://t.example/1.txt",
			StartedAt: ptr(at("2023-10-11T09:00:00Z")), EndedAt: nil}},
	}
}

type reportHarness struct {
	srv     *api.Server
	store   *memStore
	reports *fakeReports
	status  *fakeStatus
}

// newReportHarness is a server with every route mounted, the report
// endpoints over fakes, served in process with app.Test.
func newReportHarness(t testing.TB) *reportHarness {
	t.Helper()
	store := newMemStore()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	in, err := intake.New(intake.Config{Now: func() time.Time { return time.Unix(1700000000, 0) }}, store, log)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := api.ParseTokens(tokenApp1 + "=app-1," + tokenApp2 + "=app-2," + tokenAdmin + "=*")
	if err != nil {
		t.Fatal(err)
	}
	m, call := sampleMeeting(), sampleCall()
	fr := &fakeReports{
		meetings: map[reports.SessionKey]domain.Meeting{
			{AppID: "app-1", SessionID: "s-1"}:    m,
			{AppID: "app-1", SessionID: "call-1"}: call,
		},
		page: reports.MeetingPage{Meetings: []domain.Meeting{call, m}, NextCursor: "opaque-next"},
		participant: reports.ParticipantReport{
			Participant: "uid-1", TotalAttendedSeconds: 2700, MeetingsAttended: 1, NextCursor: "opaque-participant",
			Meetings: []reports.ParticipantMeeting{{SessionID: "s-1", StartedAt: at("2023-10-10T10:00:00Z").In(time.FixedZone("X", -7200)),
				AttendedSeconds: 2700, AttendanceRatio: 0.75, JoinCount: 2}},
		},
		buckets: []reports.DurationBucket{{Start: at("2023-10-10T00:00:00Z"), Meetings: 2, TotalDurationSeconds: 4200,
			AvgDurationSeconds: 2100, MaxDurationSeconds: 3600, UniqueParticipants: 3, AttendanceSeconds: 5000}},
		// Buckets as a store may give them (UTC instants): the answer shows
		// them in the query's zone.
		usage: []reports.UsageBucket{
			{Start: at("2023-10-09T18:30:00Z"), Meetings: 2, Participants: 3, AttendanceSeconds: 5000, AudioSeconds: 1200,
				VideoSeconds: 3800, BillableAudioMinutes: 21, BillableVideoMinutes: 64},
			{Start: at("2023-10-10T18:30:00Z"), Meetings: 1, Participants: 1, AttendanceSeconds: 60, AudioSeconds: 60,
				BillableAudioMinutes: 1},
		},
	}
	fs := &fakeStatus{progress: projections.Progress{Events: 12,
		Projected: projections.Checkpoint{Position: eventstore.Position{Commit: 10, Prepare: 10}, Events: 10}, Lag: 2}}
	routes, err := api.NewReportRoutes(fr, fs)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	subs, deliveries := subscriptionDeps(t, store)
	planRoutes := newPlanRoutes(t, store, reg)
	seedPlans(t, store, fr)
	erasures, err := erasure.NewService(store, privacy.NewMemory(), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(api.Config{WebhookUser: hookUser, WebhookPassword: hookPass, Tokens: tokens},
		api.Deps{Intake: in, Events: store, Reports: routes, Plans: planRoutes, Ready: []api.Pinger{store}, Registry: reg, Gatherer: reg,
			Subscriptions: subs, Deliveries: deliveries, Erasures: erasures}, log)
	if err != nil {
		t.Fatal(err)
	}
	return &reportHarness{srv: srv, store: store, reports: fr, status: fs}
}

// get answers a GET in process: status, Content-Type and body.
func (h *reportHarness) get(t testing.TB, path, token string, header ...string) (int, string, string) {
	t.Helper()
	req := getReq(path, token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return h.roundTrip(t, req)
}

func (h *reportHarness) roundTrip(t testing.TB, req *http.Request) (int, string, string) {
	t.Helper()
	resp, err := h.srv.App().Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(raw)
}

func (f *fakeReports) Usage(ctx context.Context, q reports.UsageQuery) ([]reports.UsageBucket, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastUsage = q
	if f.failWith != nil {
		return nil, f.failWith
	}
	return f.usage, nil
}
