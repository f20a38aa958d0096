package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/meetingd/meetingd/clickhouse"
	"github.com/meetingd/meetingd/projections"
)

// Where /v1 reports come from (MEETINGD_REPORTS).
const (
	reportsAuto       = "auto" // ClickHouse when MEETINGD_CLICKHOUSE_DSN is set, else embedded
	reportsEmbedded   = "embedded"
	reportsClickHouse = "clickhouse"
)

// reportsSetting is MEETINGD_REPORTS's entry in settings().
var reportsSetting = setting{"MEETINGD_REPORTS", "reports", reportsAuto,
	"where /v1 reports come from: auto (ClickHouse when MEETINGD_CLICKHOUSE_DSN is set), embedded or clickhouse", false}

// loadReports validates MEETINGD_REPORTS into cfg.Reports.
func loadReports(cfg *config, get func(string) string) []error {
	cfg.Reports = get("MEETINGD_REPORTS")
	switch cfg.Reports {
	case reportsAuto, reportsEmbedded:
	case reportsClickHouse:
		if cfg.ClickHouseDSN == "" {
			return []error{errors.New("MEETINGD_REPORTS: clickhouse needs MEETINGD_CLICKHOUSE_DSN")}
		}
	default:
		return []error{fmt.Errorf("MEETINGD_REPORTS: want auto, embedded or clickhouse, got %q", cfg.Reports)}
	}
	return nil
}

// reportsFromClickHouse reports whether /v1 is served from ClickHouse.
func (c config) reportsFromClickHouse() bool {
	return c.ClickHouseDSN != "" && c.Reports != reportsEmbedded
}

// openClickHouse connects to the ClickHouse of cfg.ClickHouseDSN (when set),
// applies the schema migrations, adds the sink to sinks, has /readyz ping
// ClickHouse and, unless MEETINGD_REPORTS=embedded, serves the reports from
// it. ClickHouse must answer at start; later outages only hold the runner
// back (it retries the sink with backoff) while the intake goes on.
func (p *pipeline) openClickHouse(ctx context.Context, cfg config, sinks []projections.Sink, log *slog.Logger) ([]projections.Sink, error) {
	if cfg.ClickHouseDSN == "" {
		return sinks, nil
	}
	log = log.With("component", "clickhouse")
	conn, err := clickhouse.Connect(ctx, cfg.ClickHouseDSN)
	if err != nil {
		return sinks, fmt.Errorf("MEETINGD_CLICKHOUSE_DSN: %w", err)
	}
	p.closers = append(p.closers, conn.Close)
	if _, err := clickhouse.Migrate(ctx, conn, log); err != nil {
		return sinks, err
	}
	sink, err := clickhouse.NewSink(clickhouse.SinkConfig{}, conn, log)
	if err != nil {
		return sinks, err
	}
	p.ready = append(p.ready, sink)
	p.clickhouse = sink
	if cfg.reportsFromClickHouse() {
		rep := clickhouse.NewReports(conn, clickhouse.ReportsLog(log))
		p.closers = append(p.closers, rep.Close) // before conn's: its backfills stop first
		p.reports = rep
	}
	log.Info("clickhouse sink enabled", "reports", reportsSource(cfg))
	return append(sinks, sink), nil
}

func reportsSource(cfg config) string {
	if cfg.reportsFromClickHouse() {
		return reportsClickHouse
	}
	return reportsEmbedded
}

// migrateCmd applies the ClickHouse schema migrations and exits.
func migrateCmd(ctx context.Context, args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) error {
	cfg, err := loadConfig("migrate", false, args, stderr, lookupEnv)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if cfg.ClickHouseDSN == "" {
		return usageError{"migrate: MEETINGD_CLICKHOUSE_DSN is not set: nothing to migrate"}
	}
	conn, err := clickhouse.Connect(ctx, cfg.ClickHouseDSN)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	applied, err := clickhouse.Migrate(ctx, conn, quietLogger(stderr))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "clickhouse schema is up to date")
		return nil
	}
	fmt.Fprintf(stdout, "applied clickhouse migrations %v\n", applied)
	return nil
}
