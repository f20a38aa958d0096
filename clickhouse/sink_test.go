package clickhouse_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/meetingd/meetingd/clickhouse"
	"github.com/meetingd/meetingd/clickhouse/clickhousetest"
	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/reports"
)

// recordingConn records the INSERT statements the sink prepares.
type recordingConn struct {
	driver.Conn
	mu      sync.Mutex
	inserts []string
}

func (c *recordingConn) PrepareBatch(ctx context.Context, q string, opts ...driver.PrepareBatchOption) (driver.Batch, error) {
	c.mu.Lock()
	c.inserts = append(c.inserts, q)
	c.mu.Unlock()
	return c.Conn.PrepareBatch(ctx, q, opts...)
}

func (c *recordingConn) count(table string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, q := range c.inserts {
		if strings.HasPrefix(q, "INSERT INTO "+table+" ") {
			n++
		}
	}
	return n
}

// batchOf folds the sessions of evs into one batch at version v.
func batchOf(v uint64, evs []domain.Event) projections.Batch {
	facts := map[reports.SessionKey]*domain.Facts{}
	for _, e := range evs {
		k := reports.SessionKey{AppID: e.AppID, SessionID: e.SessionID}
		if facts[k] == nil {
			facts[k] = domain.NewFacts(e.AppID, e.SessionID)
		}
		facts[k].Apply(e)
	}
	b := projections.Batch{Version: v}
	for k, f := range facts {
		b.Sessions = append(b.Sessions, projections.SessionUpdate{Key: k, Facts: f, Meeting: f.Meeting()})
	}
	slices.SortFunc(b.Sessions, func(a, b projections.SessionUpdate) int { return strings.Compare(a.Key.SessionID, b.Key.SessionID) })
	return b
}

// TestSinkNamesEveryColumn: every INSERT names its columns, and exactly the
// columns of its table.
func TestSinkNamesEveryColumn(t *testing.T) {
	t.Parallel()
	conn, _ := clickhousetest.Migrated(t)
	rec := &recordingConn{Conn: conn}
	sink, err := clickhouse.NewSink(clickhouse.SinkConfig{FlushAge: time.Millisecond}, rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := corpus(3, 30)
	if err := sink.Write(t.Context(), batchOf(1, evs[:len(evs)/2])); err != nil {
		t.Fatal(err)
	}
	if err := sink.Write(t.Context(), batchOf(2, evs)); err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^INSERT INTO (\w+) \(([\w, ]+)\)$`)
	seen := map[string]bool{}
	for _, q := range rec.inserts {
		m := re.FindStringSubmatch(q)
		if m == nil {
			t.Errorf("INSERT without a column list: %q", q)
			continue
		}
		seen[m[1]] = true
		got := strings.Split(m[2], ", ")
		rows, err := conn.Query(t.Context(), "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = ?", m[1])
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			want = append(want, n)
		}
		rows.Close()
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("INSERT INTO %s names %v; the table has %v", m[1], got, want)
		}
	}
	for _, table := range []string{"meetings", "attendance", "intervals", "recordings", "calls", "session_versions"} {
		if !seen[table] {
			t.Errorf("no INSERT into %s (the corpus should fill every table)", table)
		}
	}
}

// TestSinkBatching: writes join the open batch, which is flushed once when
// it reaches FlushSessions (by size) or when its timer fires (by age).
func TestSinkBatching(t *testing.T) {
	t.Parallel()
	evs, _ := corpus(5, 8)
	full := batchOf(10, evs)
	if len(full.Sessions) != 8 {
		t.Fatalf("corpus has %d sessions, want 8", len(full.Sessions))
	}
	tests := []struct {
		name    string
		cfg     clickhouse.SinkConfig
		writers int // concurrent writes, each of len(sessions)/writers sessions
		flushes int
	}{
		// An age that never comes: only the size can flush, once, for all writers.
		{"size", clickhouse.SinkConfig{FlushSessions: 8, FlushAge: time.Hour}, 4, 1},
		// A size that never comes: the batch's timer flushes it.
		{"age", clickhouse.SinkConfig{FlushSessions: 1000, FlushAge: 5 * time.Millisecond}, 1, 1},
		// Larger than the size: flushed at once, in one insert per table.
		{"oversize", clickhouse.SinkConfig{FlushSessions: 3, FlushAge: time.Hour}, 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn, _ := clickhousetest.Migrated(t)
			rec := &recordingConn{Conn: conn}
			sink, err := clickhouse.NewSink(tc.cfg, rec, nil)
			if err != nil {
				t.Fatal(err)
			}
			per := len(full.Sessions) / tc.writers
			var wg sync.WaitGroup
			errs := make(chan error, tc.writers)
			for i := range tc.writers {
				b := projections.Batch{Version: full.Version, Sessions: full.Sessions[i*per : (i+1)*per]}
				wg.Go(func() { errs <- sink.Write(t.Context(), b) })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if n := rec.count("meetings"); n != tc.flushes {
				t.Errorf("%d inserts into meetings, want %d", n, tc.flushes)
			}
			var n uint64
			if err := conn.QueryRow(t.Context(), "SELECT count() FROM meetings_v").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != uint64(len(full.Sessions)) {
				t.Errorf("meetings_v has %d rows after the writes returned, want %d", n, len(full.Sessions))
			}
		})
	}
}

// TestSinkWriteHonoursCtx: a Write whose ctx ends while it waits for its
// batch returns the ctx error; the next Write flushes the batch.
func TestSinkWriteHonoursCtx(t *testing.T) {
	t.Parallel()
	conn, _ := clickhousetest.Migrated(t)
	sink, err := clickhouse.NewSink(clickhouse.SinkConfig{FlushSessions: 1000, FlushAge: time.Hour}, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := corpus(6, 4)
	b := batchOf(3, evs)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := sink.Write(ctx, b); err == nil {
		t.Fatal("Write with an ended ctx returned nil")
	}
	full, err := clickhouse.NewSink(clickhouse.SinkConfig{FlushSessions: 1, FlushAge: time.Hour}, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := full.Write(t.Context(), b); err != nil {
		t.Fatal(err)
	}
}

// TestSinkRewritesAndTombstones: re-flushing a batch, and writing an older
// version after a newer one, change no count; a newer version without a
// participant and with another started_at leaves one meeting and only its
// own rows in the views.
func TestSinkRewritesAndTombstones(t *testing.T) {
	t.Parallel()
	conn, _ := clickhousetest.Migrated(t)
	sink, err := clickhouse.NewSink(clickhouse.SinkConfig{FlushAge: time.Millisecond}, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	ev := func(trig domain.Trigger, p domain.Payload) domain.Event {
		return domain.Event{AppID: "app", SessionID: "s", Kind: domain.KindMeeting, Trigger: trig, Payload: p}
	}
	t0 := testBase
	ann := domain.Occupant{Name: "Ann", JoinedAt: t0 + 10}
	bob := domain.Occupant{Name: "Bob", JoinedAt: t0 + 20}
	v1 := []domain.Event{ // no meeting_started: started_at is Ann's join
		ev(cometchat.TriggerMeetingParticipantJoined, domain.ParticipantJoined{Occupant: ann}),
		ev(cometchat.TriggerMeetingParticipantJoined, domain.ParticipantJoined{Occupant: bob}),
	}
	// Version 2 has another identity for Bob (his uid arrived) and an earlier start.
	bobUID := bob
	bobUID.UID = "u-bob"
	v2 := []domain.Event{
		ev(cometchat.TriggerMeetingStarted, domain.SessionStarted{CreatedAt: t0}),
		ev(cometchat.TriggerMeetingParticipantJoined, domain.ParticipantJoined{Occupant: ann}),
		ev(cometchat.TriggerMeetingParticipantJoined, domain.ParticipantJoined{Occupant: bobUID}),
		ev(cometchat.TriggerMeetingEnded, domain.SessionEnded{CreatedAt: t0, DestroyedAt: t0 + 600}),
	}
	count := func(view string) (n uint64) {
		t.Helper()
		if err := conn.QueryRow(t.Context(), "SELECT count() FROM "+view).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	steps := []struct {
		name                    string
		b                       projections.Batch
		meetings, rows, ivs     uint64
		wantStarted, wantPeople string
	}{
		{"v1", batchOf(1, v1), 1, 2, 2, fmt.Sprint(t0 + 10), "Ann,Bob"},
		{"v1 again", batchOf(1, v1), 1, 2, 2, fmt.Sprint(t0 + 10), "Ann,Bob"},
		{"v2", batchOf(2, v2), 1, 2, 2, fmt.Sprint(t0), "Ann,u-bob"},
		{"v2 again", batchOf(2, v2), 1, 2, 2, fmt.Sprint(t0), "Ann,u-bob"},
		{"v1 after v2", batchOf(1, v1), 1, 2, 2, fmt.Sprint(t0), "Ann,u-bob"},
	}
	for _, st := range steps {
		if err := sink.Write(t.Context(), st.b); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := count("meetings_v"); got != st.meetings {
			t.Errorf("%s: meetings_v has %d rows, want %d", st.name, got, st.meetings)
		}
		if got := count("attendance_v"); got != st.rows {
			t.Errorf("%s: attendance_v has %d rows, want %d", st.name, got, st.rows)
		}
		if got := count("intervals_v"); got != st.ivs {
			t.Errorf("%s: intervals_v has %d rows, want %d", st.name, got, st.ivs)
		}
		var started uint32
		var people string
		err := conn.QueryRow(t.Context(), `SELECT toUInt32(any(meeting_started_at)), arrayStringConcat(arraySort(groupArray(participant)), ',')
			FROM attendance_v`).Scan(&started, &people)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(started) != st.wantStarted || people != st.wantPeople {
			t.Errorf("%s: attendance_v started %d people %s, want %s %s", st.name, started, people, st.wantStarted, st.wantPeople)
		}
	}
}

// TestMigrate: migrations apply once, in order; a second run applies none.
func TestMigrate(t *testing.T) {
	t.Parallel()
	dsn := clickhousetest.DSN(t)
	conn, err := clickhouse.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	all, err := clickhouse.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	first, err := clickhouse.Migrate(t.Context(), conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != len(all) || !slices.IsSorted(first) {
		t.Errorf("first Migrate applied %v, want all %d in order", first, len(all))
	}
	again, err := clickhouse.Migrate(t.Context(), conn, nil)
	if err != nil || len(again) != 0 {
		t.Errorf("second Migrate applied %v, %v; want none", again, err)
	}
}

// TestViewsContract: the BI views have exactly the columns and types (in any
// order) of the contract that deploy/'s dashboards rely on.
func TestViewsContract(t *testing.T) {
	t.Parallel()
	conn, _ := clickhousetest.Migrated(t)
	dt := "DateTime('UTC')"
	ndt := "Nullable(DateTime('UTC'))"
	want := map[string][]string{
		"meetings_v": {"app_id String", "session_id String", "kind String", "status String", "outcome String",
			"started_at " + dt, "ended_at " + ndt, "duration_seconds UInt64", "participant_count UInt32",
			"peak_concurrent UInt32", "total_attendance_seconds UInt64", "recording_count UInt32", "last_event_at " + dt,
			"audio_seconds UInt64", "video_seconds UInt64", "billable_audio_minutes UInt64", "billable_video_minutes UInt64"},
		"attendance_v": {"app_id String", "session_id String", "meeting_started_at " + dt, "participant String",
			"name String", "first_joined_at " + dt, "last_left_at " + ndt, "attended_seconds UInt64",
			"attendance_ratio Float64", "join_count UInt32", "audio_seconds UInt64", "video_seconds UInt64"},
		"intervals_v": {"app_id String", "session_id String", "participant String", "joined_at " + dt, "left_at " + ndt},
		"daily_durations_v": {"app_id String", "day Date", "meetings UInt64", "total_duration_seconds UInt64",
			"avg_duration_seconds Float64"},
		"usage_v": {"app_id String", "day Date", "meetings UInt64", "participants UInt64", "attendance_seconds UInt64",
			"audio_seconds UInt64", "video_seconds UInt64", "billable_audio_minutes UInt64", "billable_video_minutes UInt64"},
		"recordings_v": {"app_id String", "session_id String", "kind String", "url String", "started_at " + dt,
			"duration_seconds Float64"},
	}
	for view, cols := range want {
		rows, err := conn.Query(t.Context(), `SELECT name, type FROM system.columns
			WHERE database = currentDatabase() AND table = ?`, view)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var n, ty string
			if err := rows.Scan(&n, &ty); err != nil {
				t.Fatal(err)
			}
			got = append(got, n+" "+strings.ReplaceAll(ty, `\'`, "'"))
		}
		rows.Close()
		slices.Sort(got)
		cols = slices.Sorted(slices.Values(cols))
		if !slices.Equal(got, cols) {
			t.Errorf("%s:\n got %v\nwant %v", view, got, cols)
		}
	}
}
