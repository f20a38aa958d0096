package jobs_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/cometchat/callsapi"
	"github.com/meetingd/meetingd/cometchat/cometchattest"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/jobs"
	"github.com/meetingd/meetingd/reports"
)

// The session of shared/fixtures/cometchat-rest/get_call.json: started
// 1692368127, ended 1692368146; cometchat-uid-8 in [1692368128, 1692368144),
// cometchat-uid-2 in [1692368132, 1692368146).
const (
	restApp     = "31780434a95d45"
	restSession = "v1.us.31780434a95d45.16923681138d75114d60d1345a22e4cc612263fb26c0b5cf92"
	restStart   = 1692368127
	restEnd     = 1692368146
)

// callsAPI is a local server in the Calls API's shape: calls[sessionId] is
// the body of GET /v3/calls/{sessionId} (others are 404), ongoing the list
// of GET /v3/calls?status=ongoing. It checks the API key.
type callsAPI struct {
	mu      sync.Mutex
	calls   map[string]string
	ongoing []string
	gets    []string
}

func (a *callsAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.Header.Get("apikey") != "rest-key" {
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	if r.URL.Path == "/v3/calls" {
		if r.URL.Query().Get("status") != "ongoing" {
			http.Error(w, "want status=ongoing", http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, `{"data":[%s],"meta":{"pagination":{"total":%d,"count":%d,"per_page":100,"current_page":1,"total_pages":1}}}`,
			strings.Join(a.ongoing, ","), len(a.ongoing), len(a.ongoing))
		return
	}
	id, ok := strings.CutPrefix(r.URL.Path, "/v3/calls/")
	body, known := a.calls[id]
	a.gets = append(a.gets, id)
	if !ok || !known {
		http.Error(w, `{"error":{"code":"ERR_CALL_SESSION_NOT_FOUND"}}`, http.StatusNotFound)
		return
	}
	fmt.Fprint(w, body)
}

func (a *callsAPI) fetched() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.gets...)
}

func newReconciler(t *testing.T, h *harness, store jobs.Store, api *callsAPI, app string, clk *clock) *jobs.Reconciler {
	t.Helper()
	return newReconcilerWith(t, h, store, api, app, clk, nil)
}

// histogramSum returns the sum of the histogram name's series with label
// medium in reg.
func histogramSum(t *testing.T, reg *prometheus.Registry, name, medium string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "medium" && l.GetValue() == medium {
					return m.GetHistogram().GetSampleSum()
				}
			}
		}
	}
	t.Fatalf("no %s{medium=%q}", name, medium)
	return 0
}

func newReconcilerWith(t *testing.T, h *harness, store jobs.Store, api *callsAPI, app string, clk *clock, metrics *jobs.Metrics) *jobs.Reconciler {
	t.Helper()
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	client, err := callsapi.New(callsapi.Config{
		AppID: app, Region: "us", APIKey: "rest-key", BaseURL: srv.URL + "/v3", Rate: 1000, Burst: 100,
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if store == nil {
		store = h.store
	}
	r, err := jobs.NewReconciler(jobs.ReconcileConfig{After: 30 * time.Minute, MaxAge: 7 * 24 * time.Hour, Now: clk.Now, PageSize: 1},
		[]jobs.Calls{client}, store, h.models, metrics, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func durations(t *testing.T, h *harness, app string) []reports.DurationBucket {
	t.Helper()
	b, err := h.models.Durations(context.Background(), reports.DurationQuery{AppID: app, Bucket: reports.Day})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReconcileFillsEndAndLeaves: the webhooks of the fixture's session lost
// meeting_ended and cometchat-uid-2's leave. The reconciliation, against a
// local server answering with the fixture, appends the end and the leave;
// the reports change accordingly (ended, its duration, uid-2's attendance,
// the duration report); a second run appends nothing.
func TestReconcileFillsEndAndLeaves(t *testing.T) {
	h := newHarness(t)
	h.post(t,
		startedBody(restApp, restSession, restStart),
		joinedBody(restApp, restSession, "Eight", "cometchat-uid-8", 1692368128),
		joinedBody(restApp, restSession, "Two", "cometchat-uid-2", 1692368132),
		leftBody(restApp, restSession, "Eight", "cometchat-uid-8", 1692368128, 1692368144),
	)
	h.project(t)
	before := h.meeting(t, restApp, restSession)
	if before.Status != domain.StatusLive || len(durations(t, h, restApp)) != 0 {
		t.Fatalf("before: %s, durations %v", before.Status, durations(t, h, restApp))
	}

	api := &callsAPI{calls: map[string]string{restSession: string(cometchattest.RESTFixture(t, "get_call"))}}
	lastAt := time.Unix(1692368144, 0)
	clk := newClock(lastAt.Add(30 * time.Minute)) // not yet past MEETINGD_RECONCILE_AFTER
	r := newReconciler(t, h, nil, api, restApp, clk)
	if got := summaryInt(t, runJob(t, r), "candidates"); got != 0 || len(api.fetched()) != 0 {
		t.Fatalf("%d candidates, %d fetched before the threshold", got, len(api.fetched()))
	}
	clk.Advance(time.Second)
	sum := runJob(t, r)
	if summaryInt(t, sum, "reconciled") != 1 || summaryInt(t, sum, "unmatched_participants") != 0 {
		t.Fatalf("summary %v, want one session reconciled", sum)
	}
	ev := h.lastEvent(t, restApp, restSession)
	got, ok := ev.Payload.(domain.SessionReconciled)
	if !ok {
		t.Fatalf("last event %T", ev.Payload)
	}
	want := domain.SessionReconciled{
		FetchedAt: clk.Now().Unix(), EndedAt: restEnd,
		Intervals: []domain.Occupant{{UID: "cometchat-uid-2", JoinedAt: 1692368132, LeftAt: 1692368146}},
		Usage: []domain.ParticipantUsage{
			{Participant: "cometchat-uid-2", AudioMinutes: 0.23333333333333334},
			{Participant: "cometchat-uid-8", AudioMinutes: 0.26666666666666666},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("appended (-want +got):\n%s", diff)
	}

	h.project(t)
	m := h.meeting(t, restApp, restSession)
	if m.Status != domain.StatusEnded || m.EndedAt.Unix() != restEnd || m.DurationSeconds != 19 {
		t.Fatalf("after: %s ending %v after %ds, want ended at %d after 19s", m.Status, m.EndedAt, m.DurationSeconds, restEnd)
	}
	att := map[string]int64{}
	for _, p := range m.Participants {
		att[p.Participant] = p.AttendedSeconds
		if p.LastLeftAt == nil {
			t.Errorf("%s still present", p.Participant)
		}
	}
	if diff := cmp.Diff(map[string]int64{"cometchat-uid-8": 16, "cometchat-uid-2": 14}, att); diff != "" {
		t.Errorf("attended seconds (-want +got):\n%s", diff)
	}
	// The webhooks said video (audio_call "false"), CometChat counted audio
	// minutes: the difference is shown, meetingd's figures are kept.
	wantUsage := &domain.ProviderUsage{Participants: 2, AudioSeconds: 30, AudioDifferenceSeconds: -30, VideoDifferenceSeconds: 30}
	if diff := cmp.Diff(wantUsage, m.ProviderUsage); diff != "" || m.VideoSeconds != 30 || m.AudioSeconds != 0 {
		t.Errorf("provider usage (-want +got):\n%s\nmeetingd audio %d video %d, want 0 and 30", diff, m.AudioSeconds, m.VideoSeconds)
	}
	if b := durations(t, h, restApp); len(b) != 1 || b[0].Meetings != 1 || b[0].TotalDurationSeconds != 19 || b[0].AttendanceSeconds != 30 {
		t.Errorf("duration report %+v, want one meeting of 19s with 30s attended", b)
	}

	n := len(h.stream(t, restApp, restSession))
	clk.Advance(time.Hour)
	if got := summaryInt(t, runJob(t, r), "candidates"); got != 0 {
		t.Errorf("an ended meeting is still a candidate (%d)", got)
	}
	res, err := r.Reconcile(context.Background(), reports.SessionKey{AppID: restApp, SessionID: restSession})
	if err != nil || res.Appended != nil {
		t.Fatalf("reconciling again: %+v %v, want nothing appended", res, err)
	}
	if got := len(h.stream(t, restApp, restSession)); got != n {
		t.Errorf("stream grew from %d to %d events", n, got)
	}
}

// TestReconcileCompleteMeetingAppendsOnlyUsage: every webhook arrived; what
// CometChat answers adds nothing to the meeting but its own usage figures,
// which are recorded once (a provider fact, compared in provider_usage and
// observed in the difference metric), never changing meetingd's numbers.
func TestReconcileCompleteMeetingAppendsOnlyUsage(t *testing.T) {
	h := newHarness(t)
	bodies := []string{
		startedBody(restApp, restSession, restStart),
		joinedBody(restApp, restSession, "Eight", "cometchat-uid-8", 1692368128),
		joinedBody(restApp, restSession, "Two", "cometchat-uid-2", 1692368132),
		leftBody(restApp, restSession, "Eight", "cometchat-uid-8", 1692368128, 1692368144),
		leftBody(restApp, restSession, "Two", "cometchat-uid-2", 1692368132, restEnd),
		endedBody(restApp, restSession, restStart, restEnd),
	}
	h.post(t, bodies...)
	h.project(t)
	before := h.meeting(t, restApp, restSession)
	api := &callsAPI{calls: map[string]string{restSession: string(cometchattest.RESTFixture(t, "get_call"))}}
	clk := newClock(time.Unix(restEnd, 0).Add(2 * time.Hour))
	reg := prometheus.NewRegistry()
	metrics, err := jobs.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	r := newReconcilerWith(t, h, nil, api, restApp, clk, metrics)
	key := reports.SessionKey{AppID: restApp, SessionID: restSession}
	res, err := r.Reconcile(context.Background(), key)
	if err != nil || res.Appended == nil {
		t.Fatalf("Reconcile: %+v %v, want the usage appended", res, err)
	}
	want := domain.SessionReconciled{FetchedAt: clk.Now().Unix(), Usage: []domain.ParticipantUsage{
		{Participant: "cometchat-uid-2", AudioMinutes: 0.23333333333333334},
		{Participant: "cometchat-uid-8", AudioMinutes: 0.26666666666666666},
	}}
	if diff := cmp.Diff(&want, res.Appended); diff != "" {
		t.Errorf("appended (-want +got):\n%s", diff)
	}
	// |meetingd − CometChat| per medium: the webhooks said video for 30 s
	// that CometChat counted as audio.
	for medium, sum := range map[string]float64{"audio": 30, "video": 30} {
		if got := histogramSum(t, reg, "meetingd_provider_usage_difference_seconds", medium); got != sum {
			t.Errorf("%s difference sum %v, want %v", medium, got, sum)
		}
	}
	n := len(h.stream(t, restApp, restSession))
	res, err = r.Reconcile(context.Background(), key)
	if err != nil || res.Appended != nil {
		t.Fatalf("Reconcile again: %+v %v, want nothing appended", res, err)
	}
	if len(api.fetched()) != 2 {
		t.Errorf("fetched %v, want the session twice", api.fetched())
	}
	if got := summaryInt(t, runJob(t, r), "reconciled"); got != 0 {
		t.Errorf("run reconciled %d", got)
	}
	if got := len(h.stream(t, restApp, restSession)); got != n {
		t.Errorf("stream grew from %d to %d", n, got)
	}
	h.project(t)
	after := h.meeting(t, restApp, restSession)
	if after.ProviderUsage == nil || after.ProviderUsage.AudioSeconds != 30 {
		t.Errorf("provider usage %+v, want CometChat's 30 audio seconds", after.ProviderUsage)
	}
	after.ProviderUsage = nil
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("meetingd's figures changed (-before +after):\n%s", diff)
	}
}

// TestReconcileAbandonedMeeting: an abandoned meeting whose end and one
// leave were lost is ended by the reconciliation; a participant the webhooks
// knew only by name is matched by the name the API gives, one the webhooks
// never mentioned is listed as unmatched and counts in no total, and one
// that never joined is ignored. Ongoing calls come from the list, without a
// request per session; sessions the API does not know are counted.
func TestReconcileAbandonedMeeting(t *testing.T) {
	h := newHarness(t)
	const t0 = 1_700_000_000
	h.post(t,
		startedBody(app, "m", t0),
		joinedBody(app, "m", "Ana Lima", "", t0+10),
		joinedBody(app, "m", "Bo", "", t0+20),
		leftBody(app, "m", "Bo", "", t0+20, t0+300),
		// Still going, per the list.
		startedBody(app, "live", t0), joinedBody(app, "live", "Cy", "", t0+30),
		// Unknown to CometChat.
		startedBody(app, "gone", t0), joinedBody(app, "gone", "Di", "", t0+40),
	)
	h.project(t)
	clk := newClock(time.Unix(t0+300, 0).Add(7 * time.Hour))
	stale, err := jobs.NewStaleCloser(jobs.StaleConfig{After: 6 * time.Hour, Now: clk.Now}, h.store, h.models, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := summaryInt(t, runJob(t, stale), "abandoned"); got != 3 {
		t.Fatalf("abandoned %d, want 3", got)
	}
	h.project(t)
	if m := h.meeting(t, app, "m"); m.Status != domain.StatusAbandoned || m.EndedAt.Unix() != t0+300 {
		t.Fatalf("abandoned meeting: %s ending %v", m.Status, m.EndedAt)
	}

	api := &callsAPI{
		calls: map[string]string{"m": fmt.Sprintf(`{"data":{"sessionId":"m","status":"ended","mode":"meet","startedAt":%d,"endedAt":%d,"participants":[
			{"uid":"u-ana","name":"Ana Lima","joinedAt":%d,"leftAt":%d,"isJoined":true,"state":"ended"},
			{"uid":"u-bo","joinedAt":%d,"leftAt":%d,"isJoined":true,"state":"ended"},
			{"uid":"u-eve","name":"Eve","joinedAt":%d,"leftAt":%d,"isJoined":true,"state":"ended"},
			{"uid":"u-never","isJoined":false,"state":"unanswered"}],
			"recordings":[{"rid":"r1","recording_url":"https://rec.example/m.mp4","startTime":%d,"endTime":%d,"duration":120}]}}`,
			t0, t0+900, t0+11, t0+880, t0+20, t0+300, t0+400, t0+500, t0+60, t0+180)},
		ongoing: []string{fmt.Sprintf(`{"sessionId":"live","status":"ongoing","startedAt":%d,"participants":[{"uid":"u-cy","name":"Cy","joinedAt":%d,"isJoined":true,"state":"ongoing"}]}`, t0, t0+30)},
	}
	r := newReconciler(t, h, nil, api, app, clk)
	sum := runJob(t, r)
	for key, want := range map[string]int64{"candidates": 3, "reconciled": 1, "unmatched_participants": 2, "unknown_to_cometchat": 1, "errors": 0} {
		if got := summaryInt(t, sum, key); got != want {
			t.Errorf("%s = %d, want %d (%v)", key, got, want, sum)
		}
	}
	if diff := cmp.Diff([]string{"gone", "m"}, sortedCopy(api.fetched())); diff != "" {
		t.Errorf("fetched one by one (-want +got):\n%s", diff)
	}
	h.project(t)
	m := h.meeting(t, app, "m")
	if m.Status != domain.StatusEnded || m.EndedAt.Unix() != t0+900 || m.DurationSeconds != 900 {
		t.Fatalf("reconciled: %s ending %v after %ds", m.Status, m.EndedAt, m.DurationSeconds)
	}
	rows := map[string][2]int64{}
	for _, p := range m.Participants {
		rows[p.Participant] = [2]int64{p.AttendedSeconds, int64(p.JoinCount)}
	}
	// Ana: her webhook join (t0+10) closed by the API's leave; Bo known by
	// name only and the API gives none: not matched, and nothing lost.
	if diff := cmp.Diff(map[string][2]int64{"Ana Lima": {870, 1}, "Bo": {280, 1}}, rows); diff != "" {
		t.Errorf("attendance (-want +got):\n%s", diff)
	}
	var unmatched []string
	for _, p := range m.UnmatchedParticipants {
		unmatched = append(unmatched, p.Participant)
	}
	if diff := cmp.Diff([]string{"u-bo", "u-eve"}, sortedCopy(unmatched)); diff != "" {
		t.Errorf("unmatched (-want +got):\n%s", diff)
	}
	if m.ParticipantCount != 2 || m.TotalAttendanceSeconds != 1150 {
		t.Errorf("totals count the unmatched: %d participants, %ds", m.ParticipantCount, m.TotalAttendanceSeconds)
	}
	if len(m.Recordings) != 1 || m.Recordings[0].URL != "https://rec.example/m.mp4" || m.Recordings[0].DurationSeconds != 120 {
		t.Errorf("recordings %+v", m.Recordings)
	}
	// The live meeting's participants were all known: nothing appended.
	if types := h.stream(t, app, "live"); types[len(types)-1] != domain.TypeSessionAbandoned {
		t.Errorf("live meeting got %v", types)
	}

	// The session CometChat does not know is asked again only once its age
	// (since its newest event, t0+40) has doubled; the ongoing one costs nothing.
	first := clk.Now()
	age := first.Sub(time.Unix(t0+40, 0))
	clk.Set(first.Add(age - time.Second))
	sum = runJob(t, r)
	if summaryInt(t, sum, "deferred") != 1 || len(api.fetched()) != 2 {
		t.Errorf("second run: %v, fetched %v; want the unknown session deferred", sum, api.fetched())
	}
	clk.Set(first.Add(age))
	sum = runJob(t, r)
	if summaryInt(t, sum, "unknown_to_cometchat") != 1 || len(api.fetched()) != 3 {
		t.Errorf("third run: %v, fetched %v; want the unknown session asked again", sum, api.fetched())
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestReconcileConcurrentWebhook: the missing meeting_ended lands while the
// reconciliation decides; the append fails on the revision, the job
// re-reads, and what it appends no longer claims the end.
func TestReconcileConcurrentWebhook(t *testing.T) {
	h := newHarness(t)
	h.post(t,
		startedBody(restApp, restSession, restStart),
		joinedBody(restApp, restSession, "Eight", "cometchat-uid-8", 1692368128),
		joinedBody(restApp, restSession, "Two", "cometchat-uid-2", 1692368132),
	)
	h.project(t)
	hooked := &hookedStore{Store: h.store, n: 1, before: func() {
		h.post(t, endedBody(restApp, restSession, restStart, restEnd))
	}}
	api := &callsAPI{calls: map[string]string{restSession: string(cometchattest.RESTFixture(t, "get_call"))}}
	clk := newClock(time.Unix(restEnd, 0).Add(time.Hour))
	r := newReconciler(t, h, hooked, api, restApp, clk)
	res, err := r.Reconcile(context.Background(), reports.SessionKey{AppID: restApp, SessionID: restSession})
	if err != nil {
		t.Fatal(err)
	}
	if res.Retries != 1 || res.Appended == nil {
		t.Fatalf("result %+v, want one retry and an append", res)
	}
	want := domain.SessionReconciled{FetchedAt: clk.Now().Unix(), Intervals: []domain.Occupant{
		{UID: "cometchat-uid-8", JoinedAt: 1692368128, LeftAt: 1692368144},
		{UID: "cometchat-uid-2", JoinedAt: 1692368132, LeftAt: 1692368146},
	}, Usage: []domain.ParticipantUsage{
		{Participant: "cometchat-uid-2", AudioMinutes: 0.23333333333333334},
		{Participant: "cometchat-uid-8", AudioMinutes: 0.26666666666666666},
	},
	}
	if diff := cmp.Diff(&want, res.Appended); diff != "" {
		t.Errorf("appended (-want +got):\n%s", diff)
	}
	types := h.stream(t, restApp, restSession)
	if diff := cmp.Diff([]string{domain.TypeSessionStarted, domain.TypeParticipantJoined, domain.TypeParticipantJoined,
		domain.TypeSessionEnded, domain.TypeSessionReconciled}, types); diff != "" {
		t.Errorf("stream (-want +got):\n%s", diff)
	}
}
