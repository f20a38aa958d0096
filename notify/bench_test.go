package notify_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/sync/errgroup"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/notify"
)

// benchMeetings is how many meetings go final at once (the figure).
const benchMeetings = 10_000

// BenchmarkNotifyFinal10k: 10,000 ended meetings go quiet at the same
// instant (one advance of the fake clock) and are delivered to a receiver
// on loopback. alone: one subscription; beside-answering: the same plus a
// second subscription whose endpoint answers; beside-stuck: the same but
// the second endpoint never answers (attempts time out after the real
// 10 s); each reports the first endpoint's figures. bare: the baseline of
// alone, the same 10,000 bodies POSTed by a plain client with the same
// concurrency (8), no meetingd in the way.
func BenchmarkNotifyFinal10k(b *testing.B) {
	b.Run("alone", func(b *testing.B) { benchNotify(b, "") })
	b.Run("beside-answering", func(b *testing.B) { benchNotify(b, "answering") })
	b.Run("beside-stuck", func(b *testing.B) { benchNotify(b, "stuck") })
	b.Run("bare", benchBare)
}

// benchNotify measures the delivery of the finals to one answering
// endpoint; other adds a second subscription of the same app whose
// endpoint answers too ("answering", the baseline of the next) or never
// ("stuck").
func benchNotify(b *testing.B, other string) {
	b.ReportAllocs()
	for range b.N {
		b.StopTimer()
		dir := b.TempDir()
		clock := clockwork.NewFakeClockAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		log, err := embedded.Open(b.Context(), embedded.Config{Dir: filepath.Join(dir, "events"), Now: clock.Now}, nil)
		if err != nil {
			b.Fatal(err)
		}
		var got atomic.Int64
		fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got.Add(1)
			w.WriteHeader(http.StatusNoContent)
		}))
		answering := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		}))
		release := make(chan struct{})
		never := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		subs, err := notify.NewSubscriptions(log, notify.URLPolicy{AllowHTTP: true, AllowPrivate: true}, clock.Now, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := subs.Create(b.Context(), "app-bench", fast.URL, nil); err != nil {
			b.Fatal(err)
		}
		switch other {
		case "stuck":
			if _, err := subs.Create(b.Context(), "app-bench", never.URL, nil); err != nil {
				b.Fatal(err)
			}
		case "answering":
			if _, err := subs.Create(b.Context(), "app-bench", answering.URL, nil); err != nil {
				b.Fatal(err)
			}
		}
		appendMeetings(b, log, benchMeetings)
		store, err := notify.OpenStore(filepath.Join(dir, "notify.db"))
		if err != nil {
			b.Fatal(err)
		}
		n, err := notify.New(notify.Config{FinalAfter: time.Minute, Clock: clock, Policy: notify.URLPolicy{AllowHTTP: true, AllowPrivate: true}},
			notify.Deps{Log: log, Store: store, Meetings: foldSource{log}, Render: func(m domain.Meeting) any { return m },
				Projected: func() eventstore.Position { return eventstore.Position{Commit: ^uint64(0), Prepare: ^uint64(0)} }}, nil)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- n.Run(ctx) }()
		head, _ := log.Stats(ctx, eventstore.Filter{})
		for n.Checkpoint().Compare(head.Head) < 0 {
			time.Sleep(time.Millisecond)
		}
		runtime.GC()
		base := heapBytes()
		var peak atomic.Uint64
		stopSampling := sampleHeap(&peak)

		b.StartTimer()
		start := time.Now()
		clock.Advance(time.Minute) // every meeting is final now
		for got.Load() < benchMeetings {
			time.Sleep(time.Millisecond)
		}
		took := time.Since(start)
		b.StopTimer()

		stopSampling()
		b.ReportMetric(took.Seconds(), "deliver-s")
		b.ReportMetric(benchMeetings/took.Seconds(), "meetings/s")
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(base)/(1<<20), "base-heap-MiB")
		cancel()
		close(release)
		never.CloseClientConnections()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		fast.Close()
		never.Close()
		answering.Close()
		store.Close()
		log.Close()
	}
}

// benchBare POSTs 10,000 bodies of the same size with 8 workers.
func benchBare(b *testing.B) {
	b.ReportAllocs()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 10 * time.Second}
	body := make([]byte, 1200) // about a notification of one participant
	for range b.N {
		start := time.Now()
		var next atomic.Int64
		var g errgroup.Group
		for range 8 {
			g.Go(func() error {
				for next.Add(1) <= benchMeetings {
					resp, err := client.Post(srv.URL, "application/json", bytesReader(body))
					if err != nil {
						return err
					}
					resp.Body.Close()
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		b.ReportMetric(took.Seconds(), "deliver-s")
		b.ReportMetric(benchMeetings/took.Seconds(), "meetings/s")
	}
}

// appendMeetings appends n ended meetings of app-bench, 32 appends at a time.
func appendMeetings(b *testing.B, log *embedded.Store, n int) {
	var g errgroup.Group
	g.SetLimit(32)
	for i := range n {
		g.Go(func() error {
			session := fmt.Sprintf("bench-%05d", i)
			var evs []eventstore.Event
			for _, p := range []domain.Payload{
				domain.SessionStarted{CreatedAt: t0},
				domain.ParticipantJoined{Occupant: domain.Occupant{UID: "u1", Name: "Ann", JoinedAt: t0 + 5}},
				domain.SessionEnded{DestroyedAt: t0 + 600},
			} {
				e := domain.Event{AppID: "app-bench", SessionID: session, Kind: domain.KindMeeting, Trigger: "test", Payload: p}
				data, err := codec.MarshalEvent(e)
				if err != nil {
					return err
				}
				evs = append(evs, eventstore.Event{ID: domain.EventID(e), Type: e.Type(), Data: data, Metadata: []byte(`{}`)})
			}
			_, err := log.Append(context.Background(), domain.StreamName("app-bench", session), eventstore.Any, evs...)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
}

var heapSample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: heapSample[0].Name}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// sampleHeap records the largest heap seen every 5 ms until stopped.
func sampleHeap(peak *atomic.Uint64) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			if h := heapBytes(); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-quit:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(quit); wg.Wait() }
}

func bytesReader(b []byte) *bytesReaderT { return &bytesReaderT{b: b} }

// bytesReaderT is a fresh reader of b for each request.
type bytesReaderT struct {
	b []byte
	i int
}

func (r *bytesReaderT) Read(p []byte) (int, error) {
	if r.i >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.i:])
	r.i += n
	return n, nil
}
