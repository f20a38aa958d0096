package retention

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/jobs"
	"github.com/meetingd/meetingd/reports"
)

// Stream is the stream of retention runs.
const Stream = "retention-runs"

// Event types of Stream.
const (
	TypeStarted  = "retention.started.v1"
	TypeSessions = "retention.sessions.v1"
	TypeDone     = "retention.done.v1"
)

// JobName is the job's name in metrics and logs.
const JobName = "retention"

// Finder lists sessions whose retention time is before cutoff (up to limit).
type Finder interface {
	Expired(ctx context.Context, cutoff time.Time, limit int) ([]reports.SessionKey, error)
}

// Deleter deletes the sessions from one store; deleting a missing session
// is not an error.
type Deleter interface {
	DeleteSessions(ctx context.Context, keys []reports.SessionKey) error
}

// DeleterFunc adapts a function to Deleter.
type DeleterFunc func(ctx context.Context, keys []reports.SessionKey) error

// DeleteSessions calls f.
func (f DeleterFunc) DeleteSessions(ctx context.Context, keys []reports.SessionKey) error {
	return f(ctx, keys)
}

// Scrubber overwrites the free pages of a file.
type Scrubber interface {
	Scrub(ctx context.Context) error
}

// Log is where the runs are recorded.
type Log interface {
	Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.Event) (eventstore.AppendResult, error)
	ReadStream(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error]
}

// Config configures a Job.
type Config struct {
	// Window is MEETINGD_RETENTION (required, positive).
	Window time.Duration
	// Batch bounds the sessions of one round (default 5000).
	Batch int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Job deletes expired sessions; see the package doc.
type Job struct {
	cfg       Config
	log       Log
	finder    Finder
	deleters  []Deleter
	scrubbers []Scrubber
	m         *Metrics
	slog      *slog.Logger
}

// New returns the job. m and logger may be nil.
func New(cfg Config, log Log, finder Finder, deleters []Deleter, scrubbers []Scrubber, m *Metrics, logger *slog.Logger) (*Job, error) {
	if cfg.Window <= 0 {
		return nil, errors.New("retention: the window must be positive")
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 5000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil || finder == nil {
		return nil, errors.New("retention: nil log or finder")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Job{cfg: cfg, log: log, finder: finder, deleters: deleters, scrubbers: scrubbers, m: m, slog: logger}, nil
}

// started is the payload of retention.started.v1.
type started struct {
	ID            string    `json:"id"`
	WindowSeconds int64     `json:"window_seconds"`
	Cutoff        time.Time `json:"cutoff"`
	Sessions      int       `json:"sessions"`
	At            time.Time `json:"at"`
}

// sessions is the payload of retention.sessions.v1.
type sessions struct {
	ID       string               `json:"id"`
	Sessions []reports.SessionKey `json:"sessions"`
}

// done is the payload of retention.done.v1.
type done struct {
	ID          string    `json:"id"`
	Deleted     int       `json:"deleted"`
	TookSeconds float64   `json:"took_seconds"`
	At          time.Time `json:"at"`
}

// sessionsChunk bounds the sessions of one retention.sessions.v1 event.
const sessionsChunk = 2000

// Run finishes a run that was cut off, then deletes expired sessions in
// rounds of at most Batch until none is left.
func (j *Job) Run(ctx context.Context) (jobs.Summary, error) {
	deleted, rounds := 0, 0
	run := func() error {
		id, keys, err := j.unfinished(ctx)
		if err != nil {
			return err
		}
		if id != "" {
			n, err := j.delete(ctx, id, keys)
			deleted += n
			rounds++
			if err != nil {
				return err
			}
		}
		for {
			cutoff := j.cfg.Now().Add(-j.cfg.Window)
			keys, err := j.finder.Expired(ctx, cutoff, j.cfg.Batch)
			if err != nil {
				return fmt.Errorf("retention: find expired sessions: %w", err)
			}
			if len(keys) == 0 {
				return nil
			}
			id := uuid.NewString()
			if err := j.record(ctx, id, cutoff, keys); err != nil {
				return err
			}
			n, err := j.delete(ctx, id, keys)
			deleted += n
			rounds++
			if err != nil {
				return err
			}
			if len(keys) < j.cfg.Batch {
				return nil
			}
		}
	}
	err := run()
	j.m.observe(deleted, err, j.cfg.Now())
	return jobs.Summary{slog.Int("deleted", deleted), slog.Int("rounds", rounds)}, err
}

// record appends retention.started.v1 and the session lists.
func (j *Job) record(ctx context.Context, id string, cutoff time.Time, keys []reports.SessionKey) error {
	evs := []eventstore.Event{}
	ev, err := event(TypeStarted, id, 0, started{ID: id, WindowSeconds: int64(j.cfg.Window / time.Second),
		Cutoff: cutoff.UTC(), Sessions: len(keys), At: j.cfg.Now().UTC()})
	if err != nil {
		return err
	}
	evs = append(evs, ev)
	i := 1
	for chunk := range slices.Chunk(keys, sessionsChunk) {
		ev, err := event(TypeSessions, id, i, sessions{ID: id, Sessions: chunk})
		if err != nil {
			return err
		}
		evs = append(evs, ev)
		i++
	}
	// One append per event: each stays far below a store's event size limit.
	for _, ev := range evs {
		if _, err := j.log.Append(ctx, Stream, eventstore.Any, ev); err != nil {
			return fmt.Errorf("retention: record run: %w", err)
		}
	}
	return nil
}

// delete removes the sessions from every store, scrubs and records the end.
func (j *Job) delete(ctx context.Context, id string, keys []reports.SessionKey) (int, error) {
	start := j.cfg.Now()
	for _, d := range j.deleters {
		if err := d.DeleteSessions(ctx, keys); err != nil {
			return 0, fmt.Errorf("retention: run %s: %w", id, err)
		}
	}
	for _, s := range j.scrubbers {
		if err := s.Scrub(ctx); err != nil {
			return 0, fmt.Errorf("retention: run %s: scrub: %w", id, err)
		}
	}
	took := j.cfg.Now().Sub(start)
	ev, err := event(TypeDone, id, -1, done{ID: id, Deleted: len(keys), TookSeconds: took.Seconds(), At: j.cfg.Now().UTC()})
	if err != nil {
		return 0, err
	}
	if _, err := j.log.Append(ctx, Stream, eventstore.Any, ev); err != nil {
		return 0, fmt.Errorf("retention: record the end of run %s: %w", id, err)
	}
	j.slog.Info("retention run done", "id", id, "sessions", len(keys), "took", took)
	return len(keys), nil
}

// unfinished returns the newest run without retention.done.v1, with its
// sessions, or "".
func (j *Job) unfinished(ctx context.Context) (string, []reports.SessionKey, error) {
	var id string
	var keys []reports.SessionKey
	for ev, err := range j.log.ReadStream(ctx, Stream, 0) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return "", nil, nil
		}
		if err != nil {
			return "", nil, fmt.Errorf("retention: read runs: %w", err)
		}
		switch ev.Type {
		case TypeStarted:
			var p started
			if err := json.Unmarshal(ev.Data, &p); err != nil {
				return "", nil, fmt.Errorf("retention: %s at %d: %w", ev.Type, ev.Revision, err)
			}
			id, keys = p.ID, nil
		case TypeSessions:
			var p sessions
			if err := json.Unmarshal(ev.Data, &p); err != nil {
				return "", nil, fmt.Errorf("retention: %s at %d: %w", ev.Type, ev.Revision, err)
			}
			if p.ID == id {
				keys = append(keys, p.Sessions...)
			}
		case TypeDone:
			var p done
			if err := json.Unmarshal(ev.Data, &p); err != nil {
				return "", nil, fmt.Errorf("retention: %s at %d: %w", ev.Type, ev.Revision, err)
			}
			if p.ID == id {
				id, keys = "", nil
			}
		}
	}
	return id, keys, nil
}

// namespace derives the runs' event ids (a repeated append is a duplicate).
var namespace = uuid.MustParse("6f1d7c52-3c57-4d0e-9a43-5b0a3f6e0c21")

func event(typ, id string, part int, payload any) (eventstore.Event, error) {
	data, err := json.Marshal(payload)
	if err != nil {
		return eventstore.Event{}, fmt.Errorf("retention: encode %s: %w", typ, err)
	}
	return eventstore.Event{ID: uuid.NewSHA1(namespace, fmt.Appendf(nil, "%s/%s/%d", id, typ, part)), Type: typ, Data: data}, nil
}
