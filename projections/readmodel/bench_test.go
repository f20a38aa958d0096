package readmodel_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/projections/readmodel"
	"github.com/meetingd/meetingd/reports"
)

// The large-store benchmarks run against a store of -readmodel.meetings
// meetings (default 20,000, quick enough for CI). The 1,000,000-meeting
// figures:
//
//	go test -run '^$' -bench . -benchtime 2000x ./projections/readmodel \
//	    -readmodel.meetings 1000000 -readmodel.dir /tmp/rm-1m
//
// -readmodel.dir keeps the built store between runs (it is rebuilt when its
// size differs); without it the store is built in a temporary directory.
var (
	benchMeetings = flag.Int("readmodel.meetings", 20_000, "meetings in the large-store benchmarks' store")
	benchDir      = flag.String("readmodel.dir", "", "directory that keeps the large benchmark store between runs")
)

const (
	benchApp   = "bench-app"
	benchDays  = 365
	benchUsers = 5000
)

// benchEpoch is the start of the benchmark store's year.
var benchEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// benchSession folds a realistic meeting: 1 to 8 participants of a pool of
// benchUsers, one or two intervals each; mostly ended, some abandoned, some live.
func benchSession(r *rand.Rand, app, id string) projections.SessionUpdate {
	f := domain.NewFacts(app, id)
	ev := func(tr domain.Trigger, p domain.Payload) {
		f.Apply(domain.Event{AppID: app, SessionID: id, Kind: domain.KindMeeting, Trigger: tr, Payload: p})
	}
	start := benchEpoch.Unix() + r.Int64N(benchDays*86400)
	length := 300 + r.Int64N(2*3600)
	ev(cometchat.TriggerMeetingStarted, domain.SessionStarted{CreatedAt: start})
	n := 1 + r.IntN(8)
	latest := start
	for range n {
		u := r.IntN(benchUsers)
		uid, name := "user-"+strconv.Itoa(u), "User "+strconv.Itoa(u)
		j := start + r.Int64N(length/2)
		audio := r.IntN(4) == 0 // a voice-only participant
		for k := range 1 + r.IntN(2) {
			ev(cometchat.TriggerMeetingParticipantJoined, domain.ParticipantJoined{
				Occupant: domain.Occupant{UID: uid, Name: name, JoinedAt: j, AudioOnly: &audio},
				Client:   &domain.ClientInfo{Platform: "web", SDK: "4.0.0", AudioOnly: &audio},
			})
			l := j + 60 + r.Int64N(length/2)
			ev(cometchat.TriggerMeetingParticipantLeft, domain.ParticipantLeft{Occupant: domain.Occupant{UID: uid, Name: name, JoinedAt: j, LeftAt: l}})
			latest = max(latest, l)
			j = l + 30 + int64(k)
		}
	}
	switch x := r.IntN(20); {
	case x < 17:
		ev(cometchat.TriggerMeetingEnded, domain.SessionEnded{CreatedAt: start, DestroyedAt: max(start+length, latest)})
	case x < 19:
		ev("", domain.SessionAbandoned{LastEventAt: latest, DecidedAt: latest + 6*3600})
	}
	return projections.SessionUpdate{Key: reports.SessionKey{AppID: app, SessionID: id}, Facts: f, Meeting: f.Meeting()}
}

// largeStore is the shared store of the read benchmarks.
var largeStore struct {
	once sync.Once
	s    *readmodel.Store
	err  error
}

func openLarge(b *testing.B) *readmodel.Store {
	b.Helper()
	largeStore.once.Do(func() { largeStore.s, largeStore.err = buildLarge(*benchMeetings) })
	if largeStore.err != nil {
		b.Fatal(largeStore.err)
	}
	return largeStore.s
}

func buildLarge(n int) (*readmodel.Store, error) {
	ctx := context.Background()
	dir := *benchDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "readmodel-bench-")
		if err != nil {
			return nil, err
		}
		dir = tmp // left for the OS to clean: the benchmarks may share it until exit
	}
	marker := filepath.Join(dir, "bench-meetings")
	s, err := readmodel.Open(ctx, readmodel.Config{Dir: dir}, nil)
	if err != nil {
		return nil, err
	}
	if got, _ := os.ReadFile(marker); string(got) == benchMarker(n) {
		return s, nil
	}
	if err := s.Reset(ctx); err != nil {
		return nil, err
	}
	start := time.Now()
	r := rand.New(rand.NewPCG(42, 42))
	const batchSize = 20_000
	for i := 0; i < n; i += batchSize {
		bt := projections.Batch{Version: uint64(i/batchSize + 1)}
		for j := i; j < min(i+batchSize, n); j++ {
			bt.Sessions = append(bt.Sessions, benchSession(r, benchApp, fmt.Sprintf("v1.us.bench.%08d", j)))
		}
		if err := s.Write(ctx, bt); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(os.Stderr, "built a %d-meeting store in %s (%s)\n", n, time.Since(start).Round(time.Millisecond), dir)
	return s, os.WriteFile(marker, []byte(benchMarker(n)), 0o600)
}

// latencies records per-operation times and reports p50 and p99.
type latencies []time.Duration

// cpuTime is the process's user and system CPU time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuPerOp reports the CPU time per operation since cpu0 (cpuTime): what a
// query costs on an idle machine, whatever the wait for a CPU on a busy one.
func cpuPerOp(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
}

func (l *latencies) report(b *testing.B) {
	if len(*l) == 0 {
		return
	}
	s := slices.Clone(*l)
	slices.Sort(s)
	pct := func(p float64) float64 { return float64(s[min(int(p*float64(len(s))), len(s)-1)].Nanoseconds()) }
	b.ReportMetric(pct(0.50)/1e3, "p50-µs")
	b.ReportMetric(pct(0.99)/1e3, "p99-µs")
}

// reportAs reports the percentiles under units prefixed with prefix.
func (l *latencies) reportAs(b *testing.B, prefix string) {
	if len(*l) == 0 {
		return
	}
	s := slices.Clone(*l)
	slices.Sort(s)
	pct := func(p float64) float64 { return float64(s[min(int(p*float64(len(s))), len(s)-1)].Nanoseconds()) }
	b.ReportMetric(pct(0.50)/1e3, prefix+"p50-µs")
	b.ReportMetric(pct(0.99)/1e3, prefix+"p99-µs")
}

func (l *latencies) time(op func()) {
	t := time.Now()
	op()
	*l = append(*l, time.Since(t))
}

// BenchmarkWrite measures batches of new sessions (the catch-up and rebuild
// case) and of newer versions of stored ones (live traffic), 1000 sessions
// per batch, each batch one fsynced transaction.
func BenchmarkWrite(b *testing.B) {
	const batchSize = 1000
	r := rand.New(rand.NewPCG(1, 1))
	tmpl := make([]projections.SessionUpdate, batchSize)
	for i := range tmpl {
		tmpl[i] = benchSession(r, benchApp, "tmpl")
	}
	batchOf := func(v uint64, ids func(i int) string) projections.Batch {
		bt := projections.Batch{Version: v, Sessions: make([]projections.SessionUpdate, batchSize)}
		for i, u := range tmpl {
			id := ids(i)
			u.Key.SessionID, u.Meeting.SessionID = id, id
			bt.Sessions[i] = u
		}
		return bt
	}
	b.Run("new", func(b *testing.B) {
		s := open(b, b.TempDir())
		defer s.Close()
		ctx := context.Background()
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			bt := batchOf(uint64(n+1), func(i int) string { return fmt.Sprintf("s-%d-%d", n, i) })
			if err := s.Write(ctx, bt); err != nil {
				b.Fatal(err)
			}
			n++
		}
		b.ReportMetric(float64(n*batchSize)/b.Elapsed().Seconds(), "sessions/s")
	})
	b.Run("update", func(b *testing.B) {
		s := open(b, b.TempDir())
		defer s.Close()
		ctx := context.Background()
		const stored = 50
		for k := range stored {
			if err := s.Write(ctx, batchOf(1, func(i int) string { return fmt.Sprintf("s-%d-%d", k, i) })); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			k := n % stored
			bt := batchOf(uint64(n+2), func(i int) string { return fmt.Sprintf("s-%d-%d", k, i) })
			if err := s.Write(ctx, bt); err != nil {
				b.Fatal(err)
			}
			n++
		}
		b.ReportMetric(float64(n*batchSize)/b.Elapsed().Seconds(), "sessions/s")
	})
}

func BenchmarkMeeting(b *testing.B) {
	s := openLarge(b)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(2, 2))
	var lat latencies
	b.ReportAllocs()
	for b.Loop() {
		key := reports.SessionKey{AppID: benchApp, SessionID: fmt.Sprintf("v1.us.bench.%08d", r.IntN(*benchMeetings))}
		lat.time(func() {
			if _, err := s.Meeting(ctx, key); err != nil {
				b.Fatal(err)
			}
		})
	}
	lat.report(b)
}

// randomMonth returns a random 30-day range inside the store's year.
func randomMonth(r *rand.Rand) (time.Time, time.Time) {
	from := benchEpoch.AddDate(0, 0, r.IntN(benchDays-30))
	return from, from.AddDate(0, 0, 30)
}

func BenchmarkMeetingsPage(b *testing.B) {
	s := openLarge(b)
	ctx := context.Background()
	tests := []struct {
		name string
		q    func(r *rand.Rand) reports.MeetingQuery
	}{
		{"newest-100", func(r *rand.Rand) reports.MeetingQuery {
			return reports.MeetingQuery{AppID: benchApp, Limit: 100}
		}},
		{"month-100", func(r *rand.Rand) reports.MeetingQuery {
			from, to := randomMonth(r)
			return reports.MeetingQuery{AppID: benchApp, From: from, To: to, Limit: 100}
		}},
		{"month-live-100", func(r *rand.Rand) reports.MeetingQuery {
			from, to := randomMonth(r)
			return reports.MeetingQuery{AppID: benchApp, From: from, To: to, Status: domain.StatusLive, Limit: 100}
		}},
		{"participant-100", func(r *rand.Rand) reports.MeetingQuery {
			return reports.MeetingQuery{AppID: benchApp, Participant: "user-" + strconv.Itoa(r.IntN(benchUsers)), Limit: 100}
		}},
	}
	for _, tc := range tests {
		b.Run(tc.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(3, 3))
			var lat latencies
			b.ReportAllocs()
			for b.Loop() {
				q := tc.q(r)
				lat.time(func() {
					if _, err := s.Meetings(ctx, q); err != nil {
						b.Fatal(err)
					}
				})
			}
			lat.report(b)
		})
	}
}

// benchZone is the zone of the zoned report benchmarks: +05:30, which no
// UTC-hour roll-up can serve.
func benchZone(b *testing.B) *time.Location {
	b.Helper()
	loc, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		b.Fatal(err)
	}
	return loc
}

// BenchmarkDurations: 30-day reports in UTC and, with the -kolkata
// suffix, in Asia/Kolkata (the same ranges: the zone's cost alone).
func BenchmarkDurations(b *testing.B) {
	s := openLarge(b)
	ctx := context.Background()
	kolkata := benchZone(b)
	for _, bucket := range []reports.Bucket{reports.Hour, reports.Day, reports.Week, reports.Month} {
		for _, loc := range []*time.Location{time.UTC, kolkata} {
			name := "30d-" + string(bucket)
			if loc != time.UTC {
				name += "-kolkata"
			}
			b.Run(name, func(b *testing.B) {
				r := rand.New(rand.NewPCG(4, 4))
				var lat latencies
				b.ReportAllocs()
				cpu0 := cpuTime(b)
				for b.Loop() {
					from, to := randomMonth(r)
					lat.time(func() {
						if _, err := s.Durations(ctx, reports.DurationQuery{AppID: benchApp, From: from, To: to, Bucket: bucket, Location: loc}); err != nil {
							b.Fatal(err)
						}
					})
				}
				cpuPerOp(b, cpu0)
				lat.report(b)
			})
		}
	}
}

// BenchmarkUsage: the 30-day usage report in Asia/Kolkata (the issue's
// figure) by day, week and month.
func BenchmarkUsage(b *testing.B) {
	s := openLarge(b)
	ctx := context.Background()
	kolkata := benchZone(b)
	for _, bucket := range []reports.Bucket{reports.Day, reports.Week, reports.Month} {
		b.Run("30d-"+string(bucket)+"-kolkata", func(b *testing.B) {
			r := rand.New(rand.NewPCG(4, 4))
			var lat latencies
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			defer func() { cpuPerOp(b, cpu0) }()
			for b.Loop() {
				from, to := randomMonth(r)
				lat.time(func() {
					got, err := s.Usage(ctx, reports.UsageQuery{AppID: benchApp, From: from, To: to, Bucket: bucket, Location: kolkata})
					if err != nil || len(got) == 0 {
						b.Fatalf("usage: %d buckets, %v", len(got), err)
					}
				})
			}
			lat.report(b)
		})
	}
}

func BenchmarkParticipantAttendance(b *testing.B) {
	s := openLarge(b)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 5))
	var lat latencies
	b.ReportAllocs()
	for b.Loop() {
		q := reports.ParticipantQuery{AppID: benchApp, Participant: "user-" + strconv.Itoa(r.IntN(benchUsers))}
		lat.time(func() {
			if _, err := s.ParticipantAttendance(ctx, q); err != nil {
				b.Fatal(err)
			}
		})
	}
	lat.report(b)
}

// BenchmarkLoadFacts loads the fold state of 1000 random sessions, as the
// runner does for a batch of sessions it does not hold in memory.
func BenchmarkLoadFacts(b *testing.B) {
	s := openLarge(b)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(6, 6))
	keys := make([]reports.SessionKey, 1000)
	b.ReportAllocs()
	for b.Loop() {
		for i := range keys {
			keys[i] = reports.SessionKey{AppID: benchApp, SessionID: fmt.Sprintf("v1.us.bench.%08d", r.IntN(*benchMeetings))}
		}
		if _, err := s.LoadFacts(ctx, keys); err != nil {
			b.Fatal(err)
		}
	}
}

// benchMarker is the content of the marker file of a data set of n
// meetings: a data set of another layout is built again.
func benchMarker(n int) string {
	return fmt.Sprintf("%d meetings, layout %d", n, readmodel.LayoutVersion)
}
