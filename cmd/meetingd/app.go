package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/api"
	"github.com/meetingd/meetingd/clickhouse"
	"github.com/meetingd/meetingd/intake"
	"github.com/meetingd/meetingd/privacy"
	"github.com/meetingd/meetingd/privacy/envelope"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/projections/readmodel"
	"github.com/meetingd/meetingd/reports"
)

// pipeline is the event log and everything that is folded from it: the
// embedded read models (always: they hold the fold state and the
// checkpoint), the optional external sinks, the runner that feeds them and
// the store that answers /v1 reports. serve and rebuild share it.
type pipeline struct {
	store   eventStore
	models  *readmodel.Store
	reports reports.Store
	runner  *projections.Runner
	// clickhouse is the ClickHouse sink, nil without one.
	clickhouse *clickhouse.Sink
	ready      []api.Pinger
	// live is what /healthz checks: the event log's fail-stop state (the
	// embedded store's Health; a KurrentDB cluster has none to report).
	live    []api.HealthChecker
	closers []func() error
	// ring holds the data subjects' keys; env seals and opens the personal
	// data of the log with it, and sealed is the log seen through env (for
	// the jobs, the plans and the audit trail of /v1).
	ring   privacy.Ring
	env    *envelope.Envelope
	sealed logRW
	sealer intake.Sealer
	opener projections.Opener
}

// openPipeline opens the event log and the read models and assembles the
// projection runner. reg may be nil (no metrics).
func openPipeline(ctx context.Context, cfg config, reg prometheus.Registerer, log *slog.Logger) (p *pipeline, err error) {
	p = &pipeline{}
	defer func() {
		if err != nil {
			err = errors.Join(err, p.Close())
		}
	}()
	var closeLog func() error
	p.store, p.ring, p.env, closeLog, err = openSealedLog(ctx, cfg, log)
	if err != nil {
		return p, err
	}
	p.closers = append(p.closers, closeLog)
	p.ready = append(p.ready, p.store)
	p.sealed, p.sealer, p.opener = sealing(p.store, p.env)
	if h, ok := p.store.(api.HealthChecker); ok {
		p.live = append(p.live, h)
	}

	dir := filepath.Join(cfg.DataDir, "readmodels")
	budget := int64(-1) // MEETINGD_READMODEL_MAPPED_MIB=0: never release
	if cfg.MappedMiB > 0 {
		budget = cfg.MappedMiB << 20
	}
	if p.models, err = readmodel.Open(ctx, readmodel.Config{Dir: dir, MappedBudget: budget}, log.With("component", "readmodel")); err != nil {
		return p, fmt.Errorf("open read models in %s: %w", dir, err)
	}
	if reg != nil {
		models := p.models
		err := reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "meetingd_readmodel_mapped_releases_total",
			Help: "Times the read-model file's mapped pages were released from the resident set (MEETINGD_READMODEL_MAPPED_MIB).",
		}, func() float64 { return float64(models.MappedReleases()) }))
		if err != nil {
			return p, fmt.Errorf("read-model metrics: %w", err)
		}
	}
	p.closers = append(p.closers, p.models.Close)
	p.ready = append(p.ready, p.models)
	p.reports = p.models

	var sinks []projections.Sink
	if sinks, err = p.openClickHouse(ctx, cfg, sinks, log); err != nil {
		return p, err
	}
	var m *projections.Metrics
	if reg != nil {
		if m, err = projections.NewMetrics(reg); err != nil {
			return p, fmt.Errorf("projection metrics: %w", err)
		}
	}
	state, sinks, err := instrumentSinks(reg, p.models, sinks)
	if err != nil {
		return p, err
	}
	p.runner, err = projections.New(projections.Config{Opener: p.opener}, p.store, state, sinks, m, log.With("component", "projections"))
	if err != nil {
		return p, err
	}
	return p, nil
}

// Close closes everything openPipeline opened, newest first.
func (p *pipeline) Close() error {
	var errs []error
	for i := len(p.closers) - 1; i >= 0; i-- {
		errs = append(errs, p.closers[i]())
	}
	p.closers = nil
	return errors.Join(errs...)
}
