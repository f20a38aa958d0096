package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/cometchat/callsapi"
	"github.com/meetingd/meetingd/jobs"
)

// jobConfig is the configuration of the scheduled jobs and of shutdown.
type jobConfig struct {
	// StaleSchedule runs the stale-meeting closer ("off": never).
	StaleSchedule string
	// ReconcileSchedule runs the reconciliation when apps are configured.
	ReconcileSchedule string
	ReconcileAfter    time.Duration
	ReconcileMaxAge   time.Duration
	// Apps are the CometChat apps whose Calls API the reconciliation asks;
	// none: the reconciliation is off.
	Apps []callsapi.App
	// Rate is the request rate to each app's Calls API (per second).
	Rate float64
	// ShutdownTimeout bounds the graceful shutdown of serve.
	ShutdownTimeout time.Duration
	// Retention is MEETINGD_RETENTION (0: keep everything); the job runs
	// on StaleSchedule.
	Retention time.Duration
}

// jobSettings are the settings of the scheduled jobs (part of settings()).
func jobSettings() []setting {
	return []setting{
		{"MEETINGD_STALE_SCHEDULE", "stale-schedule", "@every 5m", "when the stale-meeting closer runs: a cron expression (5 fields, UTC), @every DURATION, @hourly…, or off", false},
		{"MEETINGD_RECONCILE_SCHEDULE", "reconcile-schedule", "@every 15m", "when the reconciliation with CometChat's Calls API runs (same syntax)", false},
		{"MEETINGD_RECONCILE_AFTER", "reconcile-after", "30m", "reconcile live or abandoned meetings whose newest event is older than this", false},
		{"MEETINGD_RECONCILE_MAX_AGE", "reconcile-max-age", "168h", "stop asking CometChat about meetings whose newest event is older than this", false},
		{"MEETINGD_COMETCHAT_APPS", "cometchat-apps", "", "Calls API access per app: comma list of appId:region:apikey or appId:region:@keyfile; empty: no reconciliation", true},
		{"MEETINGD_COMETCHAT_RATE", "cometchat-rate", "2", "requests per second to each app's Calls API", false},
		{"MEETINGD_RETENTION", "retention", "0", "delete whole sessions whose newest CometChat timestamp is older than this (e.g. 400d, or a Go duration such as 9600h); 0 keeps everything. Runs on MEETINGD_STALE_SCHEDULE", false},
		{"MEETINGD_SHUTDOWN_TIMEOUT", "shutdown-timeout", "30s", "bound of a graceful shutdown: half for requests in flight, a quarter for running jobs, the rest for the last projection flush", false},
	}
}

// load reads the job settings; get returns a setting's (trimmed) value.
func (c *jobConfig) load(get func(env string) string, readFile func(string) ([]byte, error)) []error {
	var errs []error
	c.StaleSchedule = get("MEETINGD_STALE_SCHEDULE")
	c.ReconcileSchedule = get("MEETINGD_RECONCILE_SCHEDULE")
	for env, sched := range map[string]string{"MEETINGD_STALE_SCHEDULE": c.StaleSchedule, "MEETINGD_RECONCILE_SCHEDULE": c.ReconcileSchedule} {
		if sched == "off" {
			continue
		}
		if err := jobs.ParseSchedule(sched); err != nil {
			errs = append(errs, fmt.Errorf("%s: want a cron expression (5 fields), @every DURATION, @hourly, @daily or off: %w", env, err))
		}
	}
	duration := func(env string, dst *time.Duration) {
		d, err := time.ParseDuration(get(env))
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: want a positive duration such as 30m, got %q", env, get(env)))
			return
		}
		*dst = d
	}
	duration("MEETINGD_RECONCILE_AFTER", &c.ReconcileAfter)
	duration("MEETINGD_RECONCILE_MAX_AGE", &c.ReconcileMaxAge)
	duration("MEETINGD_SHUTDOWN_TIMEOUT", &c.ShutdownTimeout)
	if c.ReconcileAfter > 0 && c.ReconcileMaxAge > 0 && c.ReconcileMaxAge <= c.ReconcileAfter {
		errs = append(errs, errors.New("MEETINGD_RECONCILE_MAX_AGE: must be longer than MEETINGD_RECONCILE_AFTER"))
	}
	var err error
	if r, err := strconv.ParseFloat(get("MEETINGD_COMETCHAT_RATE"), 64); err != nil || r <= 0 || r > 1000 {
		errs = append(errs, fmt.Errorf("MEETINGD_COMETCHAT_RATE: want requests per second in (0, 1000], got %q", get("MEETINGD_COMETCHAT_RATE")))
	} else {
		c.Rate = r
	}
	if c.Retention, err = parseRetention(get("MEETINGD_RETENTION")); err != nil {
		errs = append(errs, err)
	} else if c.Retention > 0 && c.StaleSchedule == "off" {
		errs = append(errs, errors.New("MEETINGD_RETENTION: the retention job runs on MEETINGD_STALE_SCHEDULE, which is off"))
	}
	apps, err := callsapi.ParseApps(get("MEETINGD_COMETCHAT_APPS"), readFile)
	if err != nil {
		errs = append(errs, fmt.Errorf("MEETINGD_COMETCHAT_APPS: %s", strings.ReplaceAll(err.Error(), "\n", "; ")))
	}
	c.Apps = apps
	return errs
}

// newScheduler assembles the scheduled jobs of serve: the stale-meeting
// closer (unless its schedule is off), the reconciliation (when apps are
// configured) and extra (the retention job). It returns nil when no job is on.
func newScheduler(cfg config, p *pipeline, reg prometheus.Registerer, log *slog.Logger, extra ...jobs.Spec) (*jobs.Scheduler, error) {
	jc := cfg.jobs
	m, err := jobs.NewMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("job metrics: %w", err)
	}
	log = log.With("component", "jobs")
	s, err := jobs.New(jobs.Config{StopTimeout: jc.ShutdownTimeout / 4}, m, log)
	if err != nil {
		return nil, err
	}
	n := 0
	if jc.StaleSchedule != "off" {
		closer, err := jobs.NewStaleCloser(jobs.StaleConfig{After: cfg.StaleAfter}, p.sealed, p.models, m, log)
		if err != nil {
			return nil, err
		}
		if err := s.Add(jobs.Spec{Name: jobs.StaleJobName, Schedule: jc.StaleSchedule, Job: closer}); err != nil {
			return nil, err
		}
		n++
	}
	switch {
	case len(jc.Apps) == 0:
		log.Info("reconciliation with CometChat is off: MEETINGD_COMETCHAT_APPS is empty")
	case jc.ReconcileSchedule == "off":
		log.Info("reconciliation with CometChat is off: MEETINGD_RECONCILE_SCHEDULE is off")
	default:
		cm, err := callsapi.NewMetrics(reg)
		if err != nil {
			return nil, fmt.Errorf("cometchat metrics: %w", err)
		}
		var calls []jobs.Calls
		ids := make([]string, 0, len(jc.Apps))
		for _, a := range jc.Apps {
			c, err := callsapi.New(callsapi.Config{AppID: a.AppID, Region: a.Region, APIKey: a.APIKey.Reveal(), Rate: jc.Rate}, cm, log)
			if err != nil {
				return nil, err
			}
			calls = append(calls, c)
			ids = append(ids, a.AppID+" ("+a.Region+")")
		}
		rec, err := jobs.NewReconciler(jobs.ReconcileConfig{After: jc.ReconcileAfter, MaxAge: jc.ReconcileMaxAge}, calls, p.sealed, p.models, m, log)
		if err != nil {
			return nil, err
		}
		if err := s.Add(jobs.Spec{Name: jobs.ReconcileJobName, Schedule: jc.ReconcileSchedule, Job: rec}); err != nil {
			return nil, err
		}
		log.Info("reconciliation with CometChat is on", "apps", strings.Join(ids, ", "))
		n++
	}
	for _, spec := range extra {
		if err := s.Add(spec); err != nil {
			return nil, err
		}
		n++
	}
	if n == 0 {
		return nil, nil
	}
	return s, nil
}

// jobsUsage ends `meetingd serve -h`.
const jobsUsage = `
scheduled jobs (robfig/cron; schedules are 5-field cron expressions in UTC, @every DURATION,
@hourly, @daily, or off):
  stale-closer  [MEETINGD_STALE_SCHEDULE] a live meeting whose newest CometChat timestamp is
                more than MEETINGD_STALE_AFTER old becomes abandoned: meetingd appends
                session.abandoned.v1 to its stream. A later event revives it; meeting_ended
                supersedes it.
  reconcile     [MEETINGD_RECONCILE_SCHEDULE] on when MEETINGD_COMETCHAT_APPS is set: live or
                abandoned meetings whose newest event is between MEETINGD_RECONCILE_AFTER and
                MEETINGD_RECONCILE_MAX_AGE old are looked up in CometChat's Calls REST API
                (https://{appId}.call-{region}.cometchat.io/v3, apikey header, at most
                MEETINGD_COMETCHAT_RATE requests/s per app), and what it knows that the webhooks
                did not tell (the end, missing leaves and joins, recordings) is appended as
                session.reconciled.v1. API participants are matched by uid when the webhooks
                carried one, else by a name the API gives that exactly one webhook participant
                had; the others are listed as unmatched_participants, never merged.
  retention     [MEETINGD_STALE_SCHEDULE] on when MEETINGD_RETENTION is set (e.g. 400d): whole
                sessions whose newest CometChat timestamp (a plan-only session: its scheduled
                end) is older are deleted from the event log, the read models, ClickHouse, the
                notification outbox and the caches; each run is recorded in the stream
                retention-runs (PRIVACY.md).
  MEETINGD_COMETCHAT_APPS=appId:region:apikey[,…]; write the key as @FILE to read it from a
  file (e.g. @/run/secrets/cometchat). Keys are never logged.
  A run never overlaps the previous run of the same job; runs are logged (one line each) and
  measured in meetingd_job_* metrics. Several replicas may run the jobs: their appends carry
  content-derived ids and expected revisions, so nothing is stored twice or overwritten.
`
