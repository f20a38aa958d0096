package main

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/api"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/notify"
)

// notifyConfig is the configuration of the outgoing webhooks.
type notifyConfig struct {
	// Enabled runs the notifier in this process (MEETINGD_NOTIFY=on): the
	// one replica that delivers notifications (docs/adr/0021).
	Enabled bool
	// FinalAfter is the quiet time after which a meeting is final.
	FinalAfter time.Duration
	// RetryMin is the first retry delay of a failed notification.
	RetryMin time.Duration
	// AllowHTTP and AllowPrivate relax the endpoint policy (development).
	AllowHTTP, AllowPrivate bool
}

// notifySettings are the settings of the outgoing webhooks (part of settings()).
func notifySettings() []setting {
	return []setting{
		{"MEETINGD_FINAL_AFTER", "final-after", "2m", "quiet time after which an ended or abandoned meeting's report is final and notified", false},
		{"MEETINGD_NOTIFY_ALLOW_HTTP", "notify-allow-http", "0", "1 lets subscriptions use http:// (development and tests only)", false},
		{"MEETINGD_NOTIFY_ALLOW_PRIVATE", "notify-allow-private", "0", "1 lets subscriptions reach loopback, link-local and private addresses (development and tests only)", false},
		{"MEETINGD_NOTIFY_RETRY_MIN", "notify-retry-min", "5s", "first retry delay of a failed notification; it doubles per attempt (with jitter) for about a day", false},
		{"MEETINGD_NOTIFY", "notify", "on", "on: this process delivers notifications; off: another replica does (exactly one replica runs with on)", false},
	}
}

func (c *notifyConfig) load(get func(env string) string) []error {
	var errs []error
	duration := func(env string, min time.Duration, dst *time.Duration) {
		d, err := time.ParseDuration(get(env))
		if err != nil || d < min || d > 24*time.Hour {
			errs = append(errs, fmt.Errorf("%s: want a duration from %s to 24h, got %q", env, min, get(env)))
			return
		}
		*dst = d
	}
	duration("MEETINGD_FINAL_AFTER", 100*time.Millisecond, &c.FinalAfter)
	duration("MEETINGD_NOTIFY_RETRY_MIN", 100*time.Millisecond, &c.RetryMin)
	flag := func(env string, dst *bool) {
		switch v := get(env); v {
		case "0", "false", "":
			*dst = false
		case "1", "true":
			*dst = true
		default:
			errs = append(errs, fmt.Errorf("%s: want 1 or 0, got %q", env, v))
		}
	}
	flag("MEETINGD_NOTIFY_ALLOW_HTTP", &c.AllowHTTP)
	flag("MEETINGD_NOTIFY_ALLOW_PRIVATE", &c.AllowPrivate)
	switch v := get("MEETINGD_NOTIFY"); v {
	case "on", "1", "true":
		c.Enabled = true
	case "off", "0", "false":
		c.Enabled = false
	default:
		errs = append(errs, fmt.Errorf("MEETINGD_NOTIFY: want on or off, got %q", v))
	}
	return errs
}

func (c notifyConfig) policy() notify.URLPolicy {
	return notify.URLPolicy{AllowHTTP: c.AllowHTTP, AllowPrivate: c.AllowPrivate}
}

// notifier is the notification side of serve: the subscription service
// (every replica) and, when enabled, the notifier and its store.
type notifier struct {
	subs *notify.Subscriptions
	n    *notify.Notifier // nil: another replica delivers
	// deliveries is n as the API's delivery log (nil with n).
	deliveries api.DeliveryLog
	// store is n's outbox (nil with n), which erasures rewrite.
	store *notify.Store
}

// openNotifier assembles the notification side over p; its store is
// closed with p.
func openNotifier(cfg config, p *pipeline, reg prometheus.Registerer, log *slog.Logger) (*notifier, error) {
	nc := cfg.notify
	if nc.AllowHTTP || nc.AllowPrivate {
		log.Warn("NOTIFICATIONS MAY GO TO http:// OR PRIVATE ADDRESSES (MEETINGD_NOTIFY_ALLOW_HTTP / _PRIVATE): development and tests only")
	}
	subs, err := notify.NewSubscriptions(p.store, nc.policy(), nil, nil)
	if err != nil {
		return nil, err
	}
	out := &notifier{subs: subs}
	if !nc.Enabled {
		log.Info("notifications are delivered by another replica (MEETINGD_NOTIFY=off)")
		return out, nil
	}
	store, err := notify.OpenStore(filepath.Join(cfg.DataDir, "notify", "notify.db"))
	if err != nil {
		return nil, err
	}
	p.closers = append(p.closers, store.Close)
	n, err := notify.New(notify.Config{
		FinalAfter: nc.FinalAfter, RetryMin: nc.RetryMin, Policy: nc.policy(), Registry: reg,
	}, notify.Deps{
		Log: p.store, Store: store, Meetings: p.reports,
		Projected: func() eventstore.Position { return p.runner.Committed().Position },
		Render:    api.MeetingAnswer,
	}, log.With("component", "notify"))
	if err != nil {
		return nil, err
	}
	out.n, out.deliveries, out.store = n, n, store
	return out, nil
}
