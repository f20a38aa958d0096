package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/meetingd/meetingd/api"
	"github.com/meetingd/meetingd/intake"
	"github.com/meetingd/meetingd/jobs"
)

func serve(ctx context.Context, args []string, stderr io.Writer, lookupEnv func(string) (string, bool)) error {
	cfg, err := loadConfig("serve", true, args, stderr, lookupEnv)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	if cfg.InsecureDev {
		log.Warn("INSECURE DEVELOPMENT MODE: webhooks are accepted without credentials; never run this in production")
	}
	switch {
	case cfg.APITokens == "" && cfg.InsecureDev:
		if cfg.tokens, err = api.ParseTokens(devToken + "=" + api.AllApps); err != nil {
			return err
		}
		log.Warn("INSECURE DEVELOPMENT MODE: MEETINGD_API_TOKENS is empty, so /v1 accepts the public development token for every app (Authorization: Bearer " + devToken + "); never run this in production")
	case cfg.APITokens == "":
		log.Warn("MEETINGD_API_TOKENS is empty: every /v1 request will be refused with 401")
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	p, err := openPipeline(ctx, cfg, reg, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := p.Close(); err != nil {
			log.Error("closing stores", "error", err)
		}
	}()

	// Before the intake starts: records of the single quarantine stream of
	// older versions move to their apps' streams (idempotent).
	if _, err := intake.MigrateQuarantine(ctx, p.store, log); err != nil {
		return err
	}
	in, err := intake.New(intake.Config{Sealer: p.sealer}, p.store, log)
	if err != nil {
		return err
	}
	reports, err := api.NewReportRoutes(p.reports, p.runner, api.WithPrices(cfg.prices))
	if err != nil {
		return err
	}
	nt, err := openNotifier(cfg, p, reg, log)
	if err != nil {
		return err
	}
	er, err := newErasures(p, p.ring, nt.store, in.Forget, log)
	if err != nil {
		return err
	}
	planRoutes, err := newPlanRoutes(p.sealed, reg, log)
	if err != nil {
		return err
	}
	srv, err := api.New(api.Config{
		WebhookUser: cfg.WebhookUser, WebhookPassword: cfg.WebhookPassword, WebhookCredentials: cfg.webhookCreds,
		InsecureDev: cfg.InsecureDev, Tokens: cfg.tokens, ShutdownTimeout: cfg.jobs.ShutdownTimeout / 2,
		WebhookRate: cfg.WebhookRate, TrustedProxies: cfg.trustedProxies, SeparateMetrics: cfg.MetricsAddr != "",
	}, api.Deps{
		Intake: in, Events: p.sealed, Reports: reports, Plans: planRoutes, Ready: p.ready, Live: p.live, Registry: reg, Gatherer: reg,
		Subscriptions: nt.subs, Deliveries: nt.deliveries, Erasures: er.svc,
	}, log)
	if err != nil {
		return err
	}
	var extra []jobs.Spec
	if spec, err := newRetention(cfg, p, nt.store, in.Forget, reg, log); err != nil {
		return err
	} else if spec != nil {
		extra = append(extra, *spec)
	}
	sched, err := newScheduler(cfg, p, reg, log, extra...)
	if err != nil {
		return err
	}
	if err := registerLag(reg, p); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	var metricsLn net.Listener
	if cfg.MetricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s (MEETINGD_METRICS_ADDR): %w", cfg.MetricsAddr, err)
		}
		log.Info("meetingd serving metrics", "metrics_addr", metricsLn.Addr().String())
	}
	log.Info("meetingd serving", "addr", ln.Addr().String(), "data_dir", cfg.DataDir, "eventstore", storeKind(cfg))

	err = service{srv: srv, ln: ln, metricsLn: metricsLn, p: p, sched: sched, notifier: nt.n, erasures: er.proc, shutdown: cfg.jobs.ShutdownTimeout, log: log}.run(ctx)
	log.Info("meetingd stopped", "error", err)
	return err
}

// devToken is the bearer token /v1 accepts, for every app, in the insecure
// development mode when MEETINGD_API_TOKENS is empty (README "Try it"). It
// is public: never in production mode.
const devToken = "meetingd-dev-token"

func storeKind(cfg config) string {
	if cfg.EventStore == "embedded" {
		return "embedded"
	}
	return "esdb"
}

// logger for commands that print to the terminal: warnings only.
func quietLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
