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
	"github.com/meetingd/meetingd/api/intake"
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
	if cfg.APITokens == "" {
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

	in, err := intake.New(intake.Config{}, p.store, log)
	if err != nil {
		return err
	}
	reports, err := api.NewReportRoutes(p.reports, p.runner)
	if err != nil {
		return err
	}
	srv, err := api.New(api.Config{
		WebhookUser: cfg.WebhookUser, WebhookPassword: cfg.WebhookPassword, InsecureDev: cfg.InsecureDev,
		Tokens: cfg.tokens, ShutdownTimeout: cfg.jobs.ShutdownTimeout / 2, WebhookRate: cfg.WebhookRate,
	}, api.Deps{
		Intake: in, Events: p.store, Reports: reports, Ready: p.ready, Live: p.live, Registry: reg, Gatherer: reg,
	}, log)
	if err != nil {
		return err
	}
	sched, err := newScheduler(cfg, p, reg, log)
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
	log.Info("meetingd serving", "addr", ln.Addr().String(), "data_dir", cfg.DataDir, "eventstore", storeKind(cfg))

	err = service{srv: srv, ln: ln, p: p, sched: sched, shutdown: cfg.jobs.ShutdownTimeout, log: log}.run(ctx)
	log.Info("meetingd stopped", "error", err)
	return err
}

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
