package clickhouse_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/meetingd/meetingd/clickhouse"
	"github.com/meetingd/meetingd/clickhouse/clickhousetest"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/reports"
)

// wantUsage computes the usage report of q from the meetings, as API.md
// states it: counted meetings by the bucket of started_at, billable minutes
// rounded up per attendance row.
func wantUsage(ms map[reports.SessionKey]domain.Meeting, q reports.UsageQuery) []reports.UsageBucket {
	type acc struct {
		b     reports.UsageBucket
		users map[string]bool
	}
	by := map[int64]*acc{}
	for k, m := range ms {
		if k.AppID != q.AppID || (m.Status != domain.StatusEnded && m.Status != domain.StatusAbandoned) ||
			(!q.From.IsZero() && m.StartedAt.Before(q.From)) || (!q.To.IsZero() && !m.StartedAt.Before(q.To)) {
			continue
		}
		start, _ := reports.BucketStart(q.Bucket, m.StartedAt, q.Location)
		a := by[start.Unix()]
		if a == nil {
			a = &acc{b: reports.UsageBucket{Start: start}, users: map[string]bool{}}
			by[start.Unix()] = a
		}
		a.b.Meetings++
		for _, r := range m.Participants {
			a.users[r.Participant] = true
			a.b.AttendanceSeconds += r.AttendedSeconds
			a.b.AudioSeconds += r.AudioSeconds
			a.b.VideoSeconds += r.VideoSeconds
			a.b.BillableAudioMinutes += (r.AudioSeconds + 59) / 60
			a.b.BillableVideoMinutes += (r.VideoSeconds + 59) / 60
		}
	}
	out := []reports.UsageBucket{}
	for _, a := range by {
		a.b.Participants = int64(len(a.users))
		out = append(out, a.b)
	}
	slices.SortFunc(out, func(a, b reports.UsageBucket) int { return a.Start.Compare(b.Start) })
	return out
}

// allVideo is m as a row written before migration 0004 means it: every
// interval without an audio flag is video.
func allVideo(m domain.Meeting) domain.Meeting {
	m.Participants = slices.Clone(m.Participants)
	m.AudioSeconds, m.VideoSeconds = 0, 0
	for i := range m.Participants {
		r := &m.Participants[i]
		r.AudioSeconds, r.VideoSeconds = 0, r.AttendedSeconds
		m.VideoSeconds += r.AttendedSeconds
	}
	return m
}

// TestMediaBackfill: rows written before migration 0004 read as all video
// after it (the DEFAULT expressions), in the usage report, the roll-up
// (backfilled by Migrate) and the BI views; the sink then writes the media
// split of newer versions.
func TestMediaBackfill(t *testing.T) {
	t.Parallel()
	conn, err := clickhouse.Connect(t.Context(), clickhousetest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if _, err := clickhouse.MigrateTo(t.Context(), conn, 3); err != nil {
		t.Fatal(err)
	}
	evs, _ := corpus(41, 90)
	old := batchOf(1, evs)
	insertRaw(t, conn, old)
	ms := map[reports.SessionKey]domain.Meeting{}
	for _, u := range old.Sessions {
		ms[u.Key] = allVideo(u.Meeting)
	}
	applied, err := clickhouse.Migrate(t.Context(), conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := migrationsAfter(t, 3); !slices.Equal(applied, want) {
		t.Fatalf("Migrate applied %v, want %v", applied, want)
	}
	rep := clickhouse.NewReports(conn)
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	check := func(step string) {
		t.Helper()
		for _, app := range []string{"app-a", "app-b"} {
			for _, loc := range []*time.Location{time.UTC, kolkata} {
				for _, b := range []reports.Bucket{reports.Day, reports.Week, reports.Month} {
					q := reports.UsageQuery{AppID: app, Bucket: b, Location: loc}
					got, err := rep.Usage(t.Context(), q)
					if err != nil {
						t.Fatal(err)
					}
					gj, _ := json.Marshal(got)
					wj, _ := json.Marshal(wantUsage(ms, q))
					if string(gj) != string(wj) {
						t.Errorf("%s: Usage(%s %s %s):\n got %s\nwant %s", step, app, b, loc, gj, wj)
					}
				}
			}
		}
		// The BI views show the same split.
		var audio, video, billable, rows uint64
		if err := conn.QueryRow(t.Context(), `SELECT sum(audio_seconds), sum(video_seconds), sum(billable_video_minutes), count()
			FROM meetings_v WHERE status IN ('ended', 'abandoned')`).Scan(&audio, &video, &billable, &rows); err != nil {
			t.Fatal(err)
		}
		var wantAudio, wantVideo, wantBillable, wantRows uint64
		for _, m := range ms {
			if m.Status == domain.StatusEnded || m.Status == domain.StatusAbandoned {
				wantRows++
				wantAudio += uint64(m.AudioSeconds)
				wantVideo += uint64(m.VideoSeconds)
				for _, r := range m.Participants {
					wantBillable += uint64((r.VideoSeconds + 59) / 60)
				}
			}
		}
		if audio != wantAudio || video != wantVideo || billable != wantBillable || rows != wantRows {
			t.Errorf("%s: meetings_v audio %d video %d billable video %d over %d meetings, want %d %d %d over %d",
				step, audio, video, billable, rows, wantAudio, wantVideo, wantBillable, wantRows)
		}
		var attAudio, attVideo, attended uint64
		if err := conn.QueryRow(t.Context(), `SELECT sum(audio_seconds), sum(video_seconds), sum(attended_seconds)
			FROM attendance_v`).Scan(&attAudio, &attVideo, &attended); err != nil {
			t.Fatal(err)
		}
		if attAudio+attVideo != attended {
			t.Errorf("%s: attendance_v audio %d + video %d != attended %d", step, attAudio, attVideo, attended)
		}
	}
	check("rows from before 0004")

	// The sink rewrites every session with a media split (as `meetingd
	// rebuild` would from the log): a third of each row audio.
	sink, err := clickhouse.NewSink(clickhouse.SinkConfig{FlushAge: time.Millisecond}, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := batchOf(2, evs)
	for i := range b.Sessions {
		b.Sessions[i].Meeting = thirdAudio(b.Sessions[i].Meeting)
		ms[b.Sessions[i].Key] = b.Sessions[i].Meeting
	}
	if err := sink.Write(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	check("rewritten by the sink")
}

func thirdAudio(m domain.Meeting) domain.Meeting {
	m.Participants = slices.Clone(m.Participants)
	m.AudioSeconds, m.VideoSeconds = 0, 0
	for i := range m.Participants {
		r := &m.Participants[i]
		r.AudioSeconds = r.AttendedSeconds / 3
		r.VideoSeconds = r.AttendedSeconds - r.AudioSeconds
		m.AudioSeconds += r.AudioSeconds
		m.VideoSeconds += r.VideoSeconds
	}
	return m
}
