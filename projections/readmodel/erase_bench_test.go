package readmodel_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/projections/readmodel"
)

var (
	eraseMeetings = flag.Int("readmodel.erasemeetings", 20_000, "meetings in BenchmarkErase's store")
	eraseDir      = flag.String("readmodel.erasedir", "", "directory that keeps BenchmarkErase's pristine store between runs")
)

// eraseSubjects are planted in BenchmarkErase's store, each in every
// 100th meeting (1 %: 10,000 of 1,000,000), one per iteration.
const eraseSubjects = 4

func eraseSubject(k int) string { return "erase-subject-" + strconv.Itoa(k) }

// buildErasable builds (or finds, by its marker) the pristine store of n
// benchmark meetings in dir, subject k joining meeting i when i%100 == k.
func buildErasable(b *testing.B, dir string, n int) {
	b.Helper()
	marker := filepath.Join(dir, "bench-erase-meetings")
	if got, _ := os.ReadFile(marker); string(got) == strconv.Itoa(n) {
		return
	}
	ctx := context.Background()
	s, err := readmodel.Open(ctx, readmodel.Config{Dir: dir}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Reset(ctx); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	r := rand.New(rand.NewPCG(7, 7))
	const batchSize = 20_000
	for i := 0; i < n; i += batchSize {
		bt := projections.Batch{Version: uint64(i/batchSize + 1)}
		for j := i; j < min(i+batchSize, n); j++ {
			id := fmt.Sprintf("v1.us.erase.%08d", j)
			u := benchSession(r, benchApp, id)
			if k := j % 100; k < eraseSubjects {
				t0 := unixOf(u.Meeting.StartedAt)
				o := domain.Occupant{UID: eraseSubject(k), Name: "Subject " + strconv.Itoa(k), JoinedAt: t0 + 5}
				u.Facts.Apply(domain.Event{AppID: benchApp, SessionID: id, Kind: domain.KindMeeting,
					Trigger: cometchat.TriggerMeetingParticipantJoined, Payload: domain.ParticipantJoined{Occupant: o}})
				o.LeftAt = t0 + 65
				u.Facts.Apply(domain.Event{AppID: benchApp, SessionID: id, Kind: domain.KindMeeting,
					Trigger: cometchat.TriggerMeetingParticipantLeft, Payload: domain.ParticipantLeft{Occupant: o}})
				u.Meeting = u.Facts.Meeting()
			}
			bt.Sessions = append(bt.Sessions, u)
		}
		if err := s.Write(ctx, bt); err != nil {
			b.Fatal(err)
		}
	}
	fmt.Fprintf(os.Stderr, "built a %d-meeting erasure store in %s (%s)\n", n, time.Since(start).Round(time.Millisecond), dir)
	if err := os.WriteFile(marker, []byte(strconv.Itoa(n)), 0o600); err != nil {
		b.Fatal(err)
	}
}

func unixOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// copyFile copies the pristine store, so that every run erases from the same state.
func copyFile(b *testing.B, from, to string) {
	b.Helper()
	in, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkErase erases a participant present in 1 % of the store's
// meetings (10,000 of 1,000,000 with -readmodel.erasemeetings 1000000):
// Pseudonymise (the scan of every session record of the app and the
// rewrite of the subject's) and Scrub (the free pages zeroed), the
// read-model part of an erasure; the same run's compact-alone-s is Compact
// on the same store (the baseline: the other way to drop the free pages,
// copying the whole file). One subject per iteration (at most 4).
func BenchmarkErase(b *testing.B) {
	if b.N > eraseSubjects {
		b.Skipf("at most %d iterations (-benchtime=%dx)", eraseSubjects, eraseSubjects)
	}
	ctx := context.Background()
	pristine := *eraseDir
	if pristine == "" {
		pristine = b.TempDir()
	}
	buildErasable(b, pristine, *eraseMeetings)
	work := b.TempDir()
	copyFile(b, filepath.Join(pristine, readmodel.FileName), filepath.Join(work, readmodel.FileName))
	s, err := readmodel.Open(ctx, readmodel.Config{Dir: work}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	if err := s.Compact(ctx); err != nil {
		b.Fatal(err)
	}
	compactAlone := time.Since(start)
	b.ResetTimer()
	var scan, compact time.Duration
	for i := range b.N {
		subject := eraseSubject(i)
		pseudonym := domain.Pseudonym(benchApp, subject)
		t0 := time.Now()
		ups, err := s.Pseudonymise(ctx, benchApp, domain.PseudonymOf(benchApp, pseudonym), pseudonym)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := s.Scrub(ctx); err != nil {
			b.Fatal(err)
		}
		scan, compact = scan+t1.Sub(t0), compact+time.Since(t1)
		if want := (*eraseMeetings + 99 - i) / 100; len(ups) != want {
			b.Fatalf("erased %d meetings, want %d", len(ups), want)
		}
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric((scan+compact).Seconds()/n, "erase-s")
	b.ReportMetric(scan.Seconds()/n, "rewrite-s")
	b.ReportMetric(compact.Seconds()/n, "scrub-s")
	b.ReportMetric(compactAlone.Seconds(), "compact-alone-s")
}

// retentionChunk is the sessions of one DeleteSessions call (as the
// retention job's chunks in cmd/meetingd).
const retentionChunk = 5000

// BenchmarkRetention deletes the meetings whose newest timestamp is in the
// first tenth of the store's time range (about 10 % of them) as the
// retention job does with the read models: Expired, DeleteSessions in
// chunks of retentionChunk, then Scrub; the same run's compact-alone-s is Compact on
// the same store (the baseline). One iteration (-benchtime=1x).
func BenchmarkRetention(b *testing.B) {
	if b.N > 1 {
		b.Skip("one iteration (-benchtime=1x)")
	}
	ctx := context.Background()
	pristine := *eraseDir
	if pristine == "" {
		pristine = b.TempDir()
	}
	buildErasable(b, pristine, *eraseMeetings)
	work := b.TempDir()
	copyFile(b, filepath.Join(pristine, readmodel.FileName), filepath.Join(work, readmodel.FileName))
	s, err := readmodel.Open(ctx, readmodel.Config{Dir: work}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	if err := s.Compact(ctx); err != nil {
		b.Fatal(err)
	}
	compactAlone := time.Since(start)
	cutoff := benchEpoch.Add(time.Duration(benchDays) * 24 * time.Hour / 10)
	b.ResetTimer()
	t0 := time.Now()
	keys, err := s.Expired(ctx, cutoff, *eraseMeetings)
	if err != nil {
		b.Fatal(err)
	}
	t1 := time.Now()
	for i := 0; i < len(keys); i += retentionChunk {
		if _, err := s.DeleteSessions(ctx, keys[i:min(i+retentionChunk, len(keys))]); err != nil {
			b.Fatal(err)
		}
	}
	t2 := time.Now()
	if err := s.Scrub(ctx); err != nil {
		b.Fatal(err)
	}
	t3 := time.Now()
	b.StopTimer()
	if len(keys) < *eraseMeetings/20 || len(keys) > *eraseMeetings/5 {
		b.Fatalf("%d of %d meetings expired, want about a tenth", len(keys), *eraseMeetings)
	}
	b.ReportMetric(float64(len(keys)), "meetings-deleted")
	b.ReportMetric(t3.Sub(t0).Seconds(), "retention-s")
	b.ReportMetric(t1.Sub(t0).Seconds(), "find-s")
	b.ReportMetric(t2.Sub(t1).Seconds(), "delete-s")
	b.ReportMetric(t3.Sub(t2).Seconds(), "scrub-s")
	b.ReportMetric(compactAlone.Seconds(), "compact-alone-s")
}
