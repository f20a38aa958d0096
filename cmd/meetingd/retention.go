package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/jobs"
	"github.com/meetingd/meetingd/notify"
	"github.com/meetingd/meetingd/reports"
	"github.com/meetingd/meetingd/retention"
)

// parseRetention reads MEETINGD_RETENTION: 0 (or empty) keeps everything;
// otherwise a whole number of days ("400d") or a Go duration ("9600h").
func parseRetention(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" || v == "0" {
		return 0, nil
	}
	bad := fmt.Errorf("MEETINGD_RETENTION: want 0 (keep everything), days such as 400d or a duration such as 9600h, got %q", v)
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n <= 0 || n > 100*366 {
			return 0, bad
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, bad
	}
	return d, nil
}

// retentionChunk bounds the streams deleted (and the sessions handed to
// each store) at once.
const retentionChunk = 5000

// newRetention assembles the retention job over the pipeline (nil when
// MEETINGD_RETENTION is 0): the log's streams, ClickHouse and the read
// models are deleted between two batches of the projection runner (so the
// runner never writes a deleted session back, and drops its cached fold
// state), then the outbox (nil when another replica delivers), the keys of
// quarantined bodies naming the sessions, and the intake's cache (forget);
// the freed pages of the read-model, event-log
// and outbox files are scrubbed.
func newRetention(cfg config, p *pipeline, outbox *notify.Store, forget func(), reg prometheus.Registerer, log *slog.Logger) (*jobs.Spec, error) {
	window := cfg.jobs.Retention
	if window <= 0 {
		return nil, nil
	}
	m, err := retention.NewMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("retention metrics: %w", err)
	}
	deleters := []retention.Deleter{retention.DeleterFunc(func(ctx context.Context, keys []reports.SessionKey) error {
		return p.runner.Exclusive(ctx, func(ctx context.Context) error {
			return deleteDerived(ctx, p, keys)
		})
	})}
	if outbox != nil {
		deleters = append(deleters, retention.DeleterFunc(func(ctx context.Context, keys []reports.SessionKey) error {
			_, err := outbox.DeleteSessions(ctx, keys)
			return err
		}))
	}
	if p.ring != nil { // sealed quarantine bodies (both logs are sealed)
		deleters = append(deleters, retention.Quarantine{Log: p.sealed, Keys: p.ring})
	}
	if forget != nil {
		deleters = append(deleters, retention.DeleterFunc(func(context.Context, []reports.SessionKey) error {
			forget()
			return nil
		}))
	}
	scrubbers := []retention.Scrubber{p.models}
	if s, ok := p.store.(retention.Scrubber); ok {
		scrubbers = append(scrubbers, s) // the embedded log
	}
	if outbox != nil {
		scrubbers = append(scrubbers, outboxScrubber{outbox})
	}
	log = log.With("component", "retention")
	job, err := retention.New(retention.Config{Window: window}, p.store, p.models, deleters, scrubbers, m, log)
	if err != nil {
		return nil, err
	}
	log.Info("retention is on: sessions are deleted once their newest CometChat timestamp is older than the window",
		"window", window, "schedule", cfg.jobs.StaleSchedule)
	return &jobs.Spec{Name: retention.JobName, Schedule: cfg.jobs.StaleSchedule, Job: job}, nil
}

// deleteDerived deletes the sessions from the log, then ClickHouse, then
// the read models (the finder: last, though a cut-off run is finished from
// its recorded list anyway). Run inside Runner.Exclusive.
func deleteDerived(ctx context.Context, p *pipeline, keys []reports.SessionKey) error {
	for chunk := range slices.Chunk(keys, retentionChunk) {
		streams := make([]string, len(chunk))
		for i, k := range chunk {
			streams[i] = domain.StreamName(k.AppID, k.SessionID)
		}
		if err := p.store.DeleteStreams(ctx, streams...); err != nil {
			return fmt.Errorf("event log: %w", err)
		}
		if p.clickhouse != nil {
			if err := p.clickhouse.DeleteSessions(ctx, chunk); err != nil {
				return err
			}
		}
		if _, err := p.models.DeleteSessions(ctx, chunk); err != nil {
			return err
		}
	}
	return nil
}

// outboxScrubber zeroes the outbox file's free pages, retrying while a read
// transaction of the notifier is open.
type outboxScrubber struct{ store *notify.Store }

func (o outboxScrubber) Scrub(ctx context.Context) error {
	wait := 10 * time.Millisecond
	for {
		err := o.store.Scrub(ctx)
		if !errors.Is(err, notify.ErrBusy) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}
