package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/meetingd/meetingd/clickhouse"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/erasure"
	"github.com/meetingd/meetingd/notify"
	"github.com/meetingd/meetingd/privacy"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/projections/readmodel"
	"github.com/meetingd/meetingd/reports"
)

// erasures is the erasure service of /v1/erasures and its processor.
type erasures struct {
	svc  *erasure.Service
	proc *erasure.Processor
}

// newErasures assembles the erasure service and processor over the
// pipeline: the read models rewritten through the runner, then ClickHouse
// (when configured), the quarantined bodies naming the subject (their keys
// erased), the notification outbox (outbox, nil when another replica
// delivers) and the intake's cache (forget, may be nil); the read-model
// file's free pages scrubbed. keys is the keyring the intake seals with.
func newErasures(p *pipeline, keys privacy.Keyring, outbox *notify.Store, forget func(), log *slog.Logger) (*erasures, error) {
	models := modelsEraser{runner: p.runner, models: p.models}
	rewriters := []erasure.Rewriter{erasure.Quarantine{Log: p.sealed, Keys: keys}}
	if p.clickhouse != nil {
		rewriters = append(rewriters, clickhouseEraser{runner: p.runner, models: p.models, sink: p.clickhouse})
	}
	if outbox != nil {
		rewriters = append(rewriters, outboxEraser{store: outbox})
	}
	if forget != nil {
		rewriters = append(rewriters, forgetter(forget))
	}
	proc, err := erasure.NewProcessor(erasure.Config{}, p.store, models, rewriters, []erasure.Scrubber{p.models},
		log.With("component", "erasure"))
	if err != nil {
		return nil, err
	}
	svc, err := erasure.NewService(p.store, keys, nil, nil, proc.Wake)
	if err != nil {
		return nil, err
	}
	return &erasures{svc: svc, proc: proc}, nil
}

// modelsEraser pseudonymises the embedded read models between two batches
// of the runner (projections.Runner.Exclusive).
type modelsEraser struct {
	runner *projections.Runner
	models *readmodel.Store
}

func (m modelsEraser) Pseudonymise(ctx context.Context, app, pseudonym string) ([]string, error) {
	var out []string
	err := m.runner.Exclusive(ctx, func(ctx context.Context) error {
		ups, err := m.models.Pseudonymise(ctx, app, domain.PseudonymOf(app, pseudonym), pseudonym)
		for _, u := range ups {
			out = append(out, u.Key.SessionID)
		}
		return err
	})
	return out, err
}

// clickhouseEraser rewrites the sessions' ClickHouse rows from the
// (pseudonymised) read models, between two batches of the runner.
type clickhouseEraser struct {
	runner *projections.Runner
	models *readmodel.Store
	sink   *clickhouse.Sink
}

func (c clickhouseEraser) Rewrite(ctx context.Context, app, pseudonym string, sessions []string) error {
	keys := make([]reports.SessionKey, len(sessions))
	for i, s := range sessions {
		keys[i] = reports.SessionKey{AppID: app, SessionID: s}
	}
	return c.runner.Exclusive(ctx, func(ctx context.Context) error {
		facts, err := c.models.LoadFacts(ctx, keys)
		if err != nil {
			return err
		}
		ups := make([]projections.SessionUpdate, 0, len(facts))
		for _, k := range keys {
			if f, ok := facts[k]; ok {
				ups = append(ups, projections.SessionUpdate{Key: k, Facts: f, Meeting: f.Meeting()})
			}
		}
		if err := c.sink.Erase(ctx, app, pseudonym, ups, c.runner.Committed().Position.Commit); err != nil {
			return fmt.Errorf("erase from clickhouse: %w", err)
		}
		return nil
	})
}

// forgetter drops a cache that holds identities.
type forgetter func()

func (f forgetter) Rewrite(context.Context, string, string, []string) error {
	f()
	return nil
}

// outboxEraser pseudonymises the bodies of the sessions' notifications in
// the outbox, then zeroes the outbox file's free pages (retrying while a
// read transaction of the notifier is open).
type outboxEraser struct{ store *notify.Store }

func (o outboxEraser) Rewrite(ctx context.Context, app, pseudonym string, sessions []string) error {
	set := make(map[string]bool, len(sessions))
	for _, s := range sessions {
		set[s] = true
	}
	_, err := o.store.RewriteBodies(ctx, set, func(body []byte) ([]byte, bool) {
		return erasure.PseudonymiseJSON(body, app, pseudonym)
	})
	if err != nil {
		return err
	}
	return outboxScrubber(o).Scrub(ctx)
}
