package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/meetingd/meetingd/api"
	"github.com/meetingd/meetingd/erasure"
	"github.com/meetingd/meetingd/jobs"
	"github.com/meetingd/meetingd/notify"
)

// service is what serve runs.
type service struct {
	srv *api.Server
	ln  net.Listener
	// metricsLn serves GET /metrics alone (MEETINGD_METRICS_ADDR); nil:
	// the main listener serves it.
	metricsLn net.Listener
	p         *pipeline
	sched     *jobs.Scheduler // nil: no job is on
	// notifier delivers notifications; nil: another replica does. It
	// stops with the jobs.
	notifier *notify.Notifier
	// erasures carries out erasure requests; it stops with the jobs.
	erasures *erasure.Processor
	// shutdown bounds the whole graceful shutdown.
	shutdown time.Duration
	log      *slog.Logger
}

// run runs the HTTP server, the projection runner and the scheduled jobs
// until ctx ends (SIGTERM, SIGINT) or one of them fails, then shuts them
// down in this order, within the shutdown bound:
//
//  1. intake: the server stops accepting connections and finishes the
//     requests in flight, whose appends are durable before their 200 (the
//     metrics listener, when there is one, stops with it);
//  2. jobs: no new runs; the running ones are cancelled and waited for;
//  3. projections: the runner flushes the batch in hand (to every sink,
//     then the checkpoint), then folds whatever was appended after its last
//     read, so that the read models stop at the head of the log.
//
// The caller closes the stores afterwards. Whatever is cut short by the
// bound is safe: appends are atomic and a flush commits its batch and
// checkpoint together or not at all; the next start resumes from the
// checkpoint.
func (s service) run(ctx context.Context) error {
	intakeCtx, stopIntake := context.WithCancel(ctx)
	defer stopIntake()
	// The jobs and the runner outlive ctx: they stop after the intake.
	jobsCtx, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer stopJobs()
	runnerCtx, stopRunner := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRunner()

	var shutdownStarted time.Time
	intakeDone, jobsDone := make(chan struct{}), make(chan struct{})
	var g errgroup.Group
	g.Go(func() error {
		defer close(intakeDone)
		err := s.srv.Run(intakeCtx, s.ln)
		stopIntake() // the main listener failed, or ctx ended: the metrics listener stops too
		shutdownStarted = time.Now()
		s.log.Info("shutdown: intake stopped", "error", errString(err))
		return err
	})
	if s.metricsLn != nil {
		g.Go(func() error {
			err := s.srv.RunMetrics(intakeCtx, s.metricsLn)
			if err != nil {
				stopIntake() // the metrics listener failed: stop everything
			}
			s.log.Info("shutdown: metrics listener stopped", "error", errString(err))
			return err
		})
	}
	g.Go(func() error {
		defer close(jobsDone)
		if s.sched == nil {
			return nil
		}
		err := s.sched.Run(jobsCtx)
		if err != nil && jobsCtx.Err() == nil {
			stopIntake() // the scheduler failed: stop everything
		}
		s.log.Info("shutdown: jobs stopped", "error", errString(err))
		return err
	})
	if s.notifier != nil {
		g.Go(func() error {
			err := s.notifier.Run(jobsCtx)
			if err != nil {
				s.log.Error("notifier failed; shutting down", "error", err)
				stopIntake()
			}
			s.log.Info("shutdown: notifier stopped", "error", errString(err))
			return err
		})
	}
	if s.erasures != nil {
		g.Go(func() error {
			err := s.erasures.Run(jobsCtx)
			s.log.Info("shutdown: erasures stopped", "error", errString(err))
			return err
		})
	}
	g.Go(func() error {
		err := s.p.runner.Run(runnerCtx)
		if err != nil {
			s.log.Error("projections failed; shutting down", "error", err)
			stopIntake()
		}
		return err
	})
	g.Go(func() error {
		<-intakeDone
		stopJobs()
		<-jobsDone
		stopRunner()
		return nil
	})
	runErr := g.Wait()

	// Fold what the runner had not read when it stopped (appends that
	// finished during the shutdown), within what is left of the bound.
	left := s.shutdown - time.Since(shutdownStarted)
	if runErr == nil && left > 0 {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), left)
		defer cancel()
		if err := s.p.runner.CatchUp(dctx); err != nil {
			runErr = fmt.Errorf("final projection catch-up: %w", err)
		}
	}
	cp := s.p.runner.Committed()
	s.log.Info("shutdown: projections stopped", "checkpoint", cp.Position.String(), "events", cp.Events,
		"took", time.Since(shutdownStarted).String())
	return runErr
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// registerLag exports the projection lag (the /v1/status lag_events) as a
// gauge, computed at scrape time.
func registerLag(reg prometheus.Registerer, p *pipeline) error {
	g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "meetingd_projection_lag_events",
		Help: "Session events acknowledged but not yet in the read models (as /v1/status lag_events); -1 when it cannot be read.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		st, err := p.runner.Status(ctx)
		if err != nil {
			return -1
		}
		return float64(st.Lag)
	})
	if err := reg.Register(g); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
		return err
	}
	return nil
}
