package readmodel_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/internal/bytescan"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/projections/readmodel"
	"github.com/meetingd/meetingd/reports"
)

func TestPseudonymiseRewritesAndScrubAndCompactLeaveNoBytes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	defer s.Close()
	const subject = "zelda-secret-uid"
	pseudonym := domain.Pseudonym("app1", subject)
	var ups []projections.SessionUpdate
	for i := range 50 {
		people := []string{"ann", "bob"}
		if i%5 == 0 {
			people = append(people, subject)
		}
		ups = append(ups, update("app1", "s"+string(rune('a'+i%26))+string(rune('a'+i/26)), 1_700_000_000+int64(i)*3600, people...))
	}
	// Another app's namesake.
	ups = append(ups, update("app2", "other", 1_700_000_000, subject))
	if err := s.Write(ctx, projections.Batch{Sessions: ups, Checkpoint: checkpoint(10), Version: 10}); err != nil {
		t.Fatal(err)
	}
	before, err := s.Meetings(ctx, reports.MeetingQuery{AppID: "app1", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Pseudonymise(ctx, "app1", domain.PseudonymOf("app1", pseudonym), pseudonym)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 {
		t.Fatalf("rewrote %d sessions, want 10", len(got))
	}
	after, err := s.Meetings(ctx, reports.MeetingQuery{AppID: "app1", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Meetings) != len(before.Meetings) {
		t.Fatalf("%d meetings after, %d before", len(after.Meetings), len(before.Meetings))
	}
	for i, m := range after.Meetings {
		b := before.Meetings[i]
		if m.DurationSeconds != b.DurationSeconds || m.ParticipantCount != b.ParticipantCount || m.TotalAttendanceSeconds != b.TotalAttendanceSeconds {
			t.Errorf("meeting %s: figures changed: %+v → %+v", m.SessionID, b, m)
		}
	}
	for _, u := range got {
		m, err := s.Meeting(ctx, u.Key)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal(m)
		if bytes.Contains(data, []byte(subject)) || !bytes.Contains(data, []byte(pseudonym)) {
			t.Errorf("meeting %s after erasure: %s", u.Key.SessionID, data)
		}
	}
	rep, err := s.ParticipantAttendance(ctx, reports.ParticipantQuery{AppID: "app1", Participant: subject, From: time.Unix(0, 0), To: time.Unix(2_000_000_000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Meetings) != 0 {
		t.Errorf("the erased identity still has %d attendance rows", len(rep.Meetings))
	}
	rep, err = s.ParticipantAttendance(ctx, reports.ParticipantQuery{AppID: "app1", Participant: pseudonym, From: time.Unix(0, 0), To: time.Unix(2_000_000_000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Meetings) != 10 {
		t.Errorf("the pseudonym has %d attendance rows, want 10", len(rep.Meetings))
	}
	other, err := s.Meeting(ctx, reports.SessionKey{AppID: "app2", SessionID: "other"})
	if err != nil {
		t.Fatal(err)
	}
	if len(other.Participants) != 1 || other.Participants[0].Participant != subject {
		t.Errorf("another app's namesake changed: %+v", other.Participants)
	}
	// Pseudonymising again changes nothing.
	if again, err := s.Pseudonymise(ctx, "app1", domain.PseudonymOf("app1", pseudonym), pseudonym); err != nil || len(again) != 0 {
		t.Fatalf("second pseudonymise: %d sessions, %v", len(again), err)
	}
	// Only app2's namesake is left once app2's subject is erased too; then
	// the file, compacted, holds the identity nowhere.
	if _, err := s.Pseudonymise(ctx, "app2", domain.PseudonymOf("app2", domain.Pseudonym("app2", subject)), domain.Pseudonym("app2", subject)); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(dir, readmodel.FileName)); err != nil || !bytes.Contains(data, []byte(subject)) {
		t.Fatalf("before Scrub the free pages hold no identity (%v): the scan would prove nothing", err)
	}
	if err := s.Scrub(ctx); err != nil {
		t.Fatal(err)
	}
	bytescan.None(t, dir, subject)
	if _, err := s.Meeting(ctx, reports.SessionKey{AppID: "app2", SessionID: "other"}); err != nil {
		t.Fatalf("after scrub: %v", err)
	}
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	bytescan.None(t, dir, subject)
	if _, err := s.Meeting(ctx, reports.SessionKey{AppID: "app2", SessionID: "other"}); err != nil {
		t.Fatalf("after compact: %v", err)
	}
	cp, err := s.Checkpoint(ctx)
	if err != nil || cp.Events != 10 {
		t.Fatalf("checkpoint after compact: %+v, %v", cp, err)
	}
	s.Close()
	s2 := open(t, dir)
	defer s2.Close()
	if _, err := s2.Meeting(ctx, got[0].Key); err != nil {
		t.Fatalf("after reopen: %v", err)
	}
	_ = readmodel.FileName
}
