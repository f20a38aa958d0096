package erasure_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/erasure"
	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/privacy"
)

// fakeDerived plays the read models: the sessions naming each pseudonym,
// forgotten once rewritten (as the real read models are).
type fakeDerived struct {
	mu    sync.Mutex
	named map[string][]string // pseudonym → sessions
	calls int
}

func (f *fakeDerived) Pseudonymise(_ context.Context, app, pseudonym string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	out := f.named[pseudonym]
	delete(f.named, pseudonym)
	return out, nil
}

// fakeRewriter records its calls and fails the first failN of them (a crash
// in the middle of an erasure).
type fakeRewriter struct {
	mu    sync.Mutex
	failN int
	got   map[string][]string
}

var errCrash = errors.New("crash")

func (f *fakeRewriter) Rewrite(_ context.Context, app, pseudonym string, sessions []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failN > 0 {
		f.failN--
		return errCrash
	}
	if f.got == nil {
		f.got = map[string][]string{}
	}
	f.got[pseudonym] = slices.Clone(sessions)
	return nil
}

func openLog(t *testing.T, dir string) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(context.Background(), embedded.Config{Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPseudonymMatchesPrivacy(t *testing.T) {
	for _, c := range []struct{ app, p string }{{"a", "bob"}, {"app-1", "ünï\"code"}, {"x", ""}} {
		if got, want := domain.Pseudonym(c.app, c.p), (privacy.Subject{AppID: c.app, Participant: c.p}).Pseudonym(); got != want {
			t.Errorf("domain.Pseudonym(%q, %q) = %s, privacy says %s", c.app, c.p, got, want)
		}
	}
}

func TestRequestErasesKeyAndNamesNoIdentity(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	log := openLog(t, dir)
	keys := privacy.NewMemory()
	subject := privacy.Subject{AppID: "app1", Participant: "zelda-identity"}
	if _, err := keys.Seal(ctx, subject, []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	svc, err := erasure.NewService(log, keys, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ participant, field string }{
		{"", "participant"}, {string(make([]byte, erasure.MaxParticipant+1)), "participant"}, {"\xff", "participant"},
	} {
		var inv *erasure.InvalidError
		if _, err := svc.Request(ctx, "app1", c.participant, "t"); !errors.As(err, &inv) || inv.Field != c.field {
			t.Errorf("Request(%q): %v, want an InvalidError on %s", c.participant, err, c.field)
		}
	}
	e, err := svc.Request(ctx, "app1", subject.Participant, "token:app1")
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != erasure.StatusPending || e.Participant != subject.Pseudonym() {
		t.Fatalf("answer %+v", e)
	}
	if erased, err := keys.Erased(ctx, subject); err != nil || !erased {
		t.Fatalf("key not erased: %v %v", erased, err)
	}
	got, err := svc.Get(ctx, "app1", e.ID)
	if err != nil || got.Status != erasure.StatusPending || got.RequestedBy != "token:app1" {
		t.Fatalf("Get: %+v %v", got, err)
	}
	if _, err := svc.Get(ctx, "app2", e.ID); !errors.Is(err, erasure.ErrNotFound) {
		t.Fatalf("another app's erasure: %v", err)
	}
	log.Close()
	data, err := os.ReadFile(filepath.Join(dir, embedded.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(subject.Participant)) {
		t.Fatal("the log names the subject")
	}
}

func TestProcessorResumesAfterACrash(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	log := openLog(t, dir)
	keys := privacy.NewMemory()
	svc, _ := erasure.NewService(log, keys, nil, nil, nil)
	zelda := privacy.Subject{AppID: "app1", Participant: "zelda"}
	derived := &fakeDerived{named: map[string][]string{zelda.Pseudonym(): {"s2", "s1"}}}
	rw := &fakeRewriter{failN: 1}
	e, err := svc.Request(ctx, "app1", "zelda", "t")
	if err != nil {
		t.Fatal(err)
	}
	p, err := erasure.NewProcessor(erasure.Config{}, log, derived, []erasure.Rewriter{rw}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.ProcessPending(ctx); !errors.Is(err, errCrash) {
		t.Fatalf("first run: %v, want the crash", err)
	}
	if got, _ := svc.Get(ctx, "app1", e.ID); got.Status != erasure.StatusPending || !slices.Equal(got.Sessions, []string{"s1", "s2"}) {
		t.Fatalf("after the crash: %+v", got)
	}
	// A new processor (a restart) finds the erasure in the log and
	// finishes it, with the sessions the first run rewrote even though the
	// read models no longer name the subject.
	p2, _ := erasure.NewProcessor(erasure.Config{}, log, derived, []erasure.Rewriter{rw}, nil, nil)
	if n, err := p2.ProcessPending(ctx); err != nil || n != 1 {
		t.Fatalf("resume: %d, %v", n, err)
	}
	if !slices.Equal(rw.got[zelda.Pseudonym()], []string{"s1", "s2"}) {
		t.Fatalf("rewriter got %v", rw.got)
	}
	got, err := svc.Get(ctx, "app1", e.ID)
	if err != nil || got.Status != erasure.StatusDone || got.DoneAt == nil || !slices.Equal(got.Sessions, []string{"s1", "s2"}) {
		t.Fatalf("after resume: %+v %v", got, err)
	}
	if n, err := p2.ProcessPending(ctx); err != nil || n != 0 {
		t.Fatalf("nothing left: %d %v", n, err)
	}
}

func TestRunWakesOnRequest(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := openLog(t, t.TempDir())
	derived := &fakeDerived{named: map[string][]string{}}
	done := make(chan struct{})
	rw := rewriterFunc(func() { close(done) })
	p, _ := erasure.NewProcessor(erasure.Config{}, log, derived, []erasure.Rewriter{rw}, nil, nil)
	svc, _ := erasure.NewService(log, privacy.NewMemory(), nil, nil, p.Wake)
	errc := make(chan error, 1)
	go func() { errc <- p.Run(ctx) }()
	if _, err := svc.Request(ctx, "a", "bob", "t"); err != nil {
		t.Fatal(err)
	}
	<-done
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

type rewriterFunc func()

func (f rewriterFunc) Rewrite(context.Context, string, string, []string) error { f(); return nil }

func TestProgressInChunks(t *testing.T) {
	ctx := context.Background()
	log := openLog(t, t.TempDir())
	svc, _ := erasure.NewService(log, privacy.NewMemory(), nil, nil, nil)
	p := privacy.Subject{AppID: "app1", Participant: "many"}.Pseudonym()
	var sessions []string
	for i := range 4500 {
		sessions = append(sessions, fmt.Sprintf("s-%05d", i))
	}
	derived := &fakeDerived{named: map[string][]string{p: sessions}}
	e, err := svc.Request(ctx, "app1", "many", "t")
	if err != nil {
		t.Fatal(err)
	}
	proc, _ := erasure.NewProcessor(erasure.Config{}, log, derived, nil, nil, nil)
	if n, err := proc.ProcessPending(ctx); err != nil || n != 1 {
		t.Fatalf("%d %v", n, err)
	}
	events := 0
	for ev, err := range log.ReadStream(ctx, erasure.Stream("app1"), 0) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type == erasure.TypeProgress {
			events++
		}
	}
	got, err := svc.Get(ctx, "app1", e.ID)
	if err != nil || got.Status != erasure.StatusDone || !slices.Equal(got.Sessions, sessions) || events != 3 {
		t.Fatalf("%d progress events, %d sessions, %s, %v", events, len(got.Sessions), got.Status, err)
	}
}
