package projections_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/projections"
)

// TestRunnerNilLogger builds a Runner without a logger and makes it log (an
// event of a type this version does not know is skipped with a warning): it
// logs nowhere instead of panicking.
func TestRunnerNilLogger(t *testing.T) {
	l, st := newMemLog(), newMemState()
	app, session := "app-nil-logger", "s-nil-logger"
	evs := sessionEvents(app, session, 1)
	appendAll(t, l, evs)
	l.append(domain.StreamName(app, session), eventstore.Event{ID: uuid.New(), Type: "session.from-a-newer-version.v9", Data: []byte(`{}`)})
	r, err := projections.New(projections.Config{}, l, st, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.CatchUp(t.Context()); err != nil {
		t.Fatalf("CatchUp: %v", err)
	}
	if got, want := st.checkpoint().Events, uint64(len(evs)+1); got != want {
		t.Fatalf("checkpoint covers %d events, want %d", got, want)
	}
}
