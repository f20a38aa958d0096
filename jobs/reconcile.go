package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/reports"
)

// Calls is one CometChat app's Calls REST API (callsapi.Client). Safe for
// concurrent use; every call honours ctx and waits for the app's rate limit.
type Calls interface {
	AppID() string
	// Call returns a session, or an error wrapping cometchat.ErrNotFound.
	Call(ctx context.Context, sessionID string) (cometchat.Call, error)
	// Ongoing lists the app's ongoing calls.
	Ongoing(ctx context.Context) ([]cometchat.Call, error)
}

// ReconcileConfig configures a Reconciler.
type ReconcileConfig struct {
	// After is MEETINGD_RECONCILE_AFTER: a meeting is looked up once its
	// newest CometChat timestamp is older than this (default 30m).
	After time.Duration
	// MaxAge is MEETINGD_RECONCILE_MAX_AGE: meetings whose newest timestamp
	// is older than this are no longer looked up (default 168h), so that a
	// session CometChat has forgotten is not asked about forever.
	MaxAge time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// PageSize is how many candidates one index read returns (default 500).
	PageSize int
	// MaxAttempts bounds the re-reads of one session when webhooks keep
	// landing while it is reconciled (default 3).
	MaxAttempts int
}

func (c *ReconcileConfig) setDefaults() {
	if c.After == 0 {
		c.After = 30 * time.Minute
	}
	if c.MaxAge == 0 {
		c.MaxAge = 7 * 24 * time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.PageSize == 0 {
		c.PageSize = 500
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 3
	}
}

// Validate reports every problem of c.
func (c ReconcileConfig) Validate() error {
	var errs []error
	if c.After < 0 {
		errs = append(errs, errors.New("jobs: reconcile: After must not be negative"))
	}
	if c.MaxAge <= c.After {
		errs = append(errs, errors.New("jobs: reconcile: MaxAge must be longer than After"))
	}
	if c.PageSize < 1 || c.PageSize > reports.MaxLimit {
		errs = append(errs, fmt.Errorf("jobs: reconcile: PageSize must be in 1..%d", reports.MaxLimit))
	}
	if c.MaxAttempts < 1 {
		errs = append(errs, errors.New("jobs: reconcile: MaxAttempts must be positive"))
	}
	return errors.Join(errs...)
}

// ReconcileJobName is the reconciler's name in metrics and logs.
const ReconcileJobName = "reconcile"

// Reconciler is the job that asks CometChat about meetings whose webhooks
// may have been lost: every live or abandoned meeting of a configured app
// whose newest CometChat timestamp lies between MaxAge and After ago. What
// the API knows that the log does not (see Plan) is appended as one
// domain.SessionReconciled; a meeting the log already knows fully gets
// nothing.
type Reconciler struct {
	cfg   ReconcileConfig
	apps  map[string]Calls
	store Store
	index OpenMeetings
	m     *Metrics
	log   *slog.Logger

	// asked remembers when Run last fetched a session, so that a session
	// CometChat keeps answering the same about is asked again only once its
	// age (since its newest event) has grown by half: about log2(MaxAge /
	// After) requests per session over its whole window, not one per run.
	// It lives in memory: a restart only makes the next run ask again.
	mu    sync.Mutex
	asked map[reports.SessionKey]time.Time
}

// NewReconciler returns the job for the given apps. m may be nil.
func NewReconciler(cfg ReconcileConfig, apps []Calls, store Store, index OpenMeetings, m *Metrics, log *slog.Logger) (*Reconciler, error) {
	cfg.setDefaults()
	errs := []error{cfg.Validate()}
	if store == nil || index == nil {
		errs = append(errs, errors.New("jobs: reconcile: nil store or index"))
	}
	byApp := make(map[string]Calls, len(apps))
	for _, a := range apps {
		if _, dup := byApp[a.AppID()]; dup {
			errs = append(errs, fmt.Errorf("jobs: reconcile: app %s configured twice", a.AppID()))
		}
		byApp[a.AppID()] = a
	}
	if len(byApp) == 0 {
		errs = append(errs, errors.New("jobs: reconcile: no app configured"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Reconciler{cfg: cfg, apps: byApp, store: store, index: index, m: m, log: log,
		asked: map[reports.SessionKey]time.Time{}}, nil
}

// ReconcileResult is what reconciling one session did.
type ReconcileResult struct {
	// Appended is the event appended, nil when nothing was new.
	Appended *domain.SessionReconciled
	// Retries counts re-reads after concurrent appends.
	Retries int
}

// reconcileTally counts one run.
type reconcileTally struct {
	candidates, deferred, reconciled, unmatched, unknown, conflicts int
}

// Run reconciles every candidate meeting of the configured apps.
func (r *Reconciler) Run(ctx context.Context) (Summary, error) {
	now := r.cfg.Now()
	var errs runErrors
	// One list request per app tells which candidates are still ongoing;
	// the others are fetched one by one.
	ongoing := make(map[string]map[string]cometchat.Call, len(r.apps))
	for app, src := range r.apps {
		calls, err := src.Ongoing(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("reconcile: %w", ctx.Err())
			}
			errs.add(fmt.Errorf("app %s: %w", app, err))
			continue
		}
		ongoing[app] = make(map[string]cometchat.Call, len(calls))
		for _, c := range calls {
			ongoing[app][c.SessionID] = c
		}
	}
	r.forget(now)
	var t reconcileTally
	for _, status := range []domain.Status{domain.StatusLive, domain.StatusAbandoned} {
		q := reports.OpenQuery{
			Status: status, From: now.Add(-r.cfg.MaxAge), To: now.Add(-r.cfg.After), Limit: r.cfg.PageSize,
		}
		for om, err := range pages(ctx, r.index, q) {
			if err != nil {
				return nil, err
			}
			src := r.apps[om.Key.AppID]
			if src == nil {
				continue
			}
			t.candidates++
			var call *cometchat.Call
			if c, ok := ongoing[om.Key.AppID][om.Key.SessionID]; ok {
				call = &c
			} else if !r.due(om, now) {
				t.deferred++
				continue
			}
			res, err := r.reconcile(ctx, src, om.Key, call, now)
			t.conflicts += res.Retries
			switch {
			case err != nil && ctx.Err() != nil:
				return nil, fmt.Errorf("reconcile: %w", ctx.Err())
			case errors.Is(err, cometchat.ErrNotFound):
				t.unknown++
			case err != nil:
				errs.add(fmt.Errorf("session %s/%s: %w", om.Key.AppID, om.Key.SessionID, err))
			case res.Appended != nil:
				t.reconciled++
				t.unmatched += len(res.Appended.Unmatched)
			}
		}
	}
	r.m.count(ReconcileJobName, "reconciled", t.reconciled)
	r.m.count(ReconcileJobName, "unmatched", t.unmatched)
	r.m.count(ReconcileJobName, "unknown", t.unknown)
	r.m.count(ReconcileJobName, "conflict", t.conflicts)
	r.m.count(ReconcileJobName, "error", errs.n)
	return Summary{
		slog.Int("apps", len(r.apps)), slog.Int("candidates", t.candidates), slog.Int("deferred", t.deferred),
		slog.Int("reconciled", t.reconciled),
		slog.Int("unmatched_participants", t.unmatched), slog.Int("unknown_to_cometchat", t.unknown),
		slog.Int("conflicts", t.conflicts), slog.Int("errors", errs.n),
	}, errs.err()
}

// Reconcile reconciles one session now, whatever its status: it fetches
// the call (GET /calls/{sessionId}) and appends what is new, if anything.
func (r *Reconciler) Reconcile(ctx context.Context, key reports.SessionKey) (ReconcileResult, error) {
	src := r.apps[key.AppID]
	if src == nil {
		return ReconcileResult{}, fmt.Errorf("reconcile %s/%s: app not configured", key.AppID, key.SessionID)
	}
	return r.reconcile(ctx, src, key, nil, r.cfg.Now())
}

func (r *Reconciler) reconcile(ctx context.Context, src Calls, key reports.SessionKey, call *cometchat.Call, now time.Time) (ReconcileResult, error) {
	var res ReconcileResult
	if call == nil {
		c, err := src.Call(ctx, key.SessionID)
		if err != nil {
			return res, err
		}
		call = &c
	}
	for range r.cfg.MaxAttempts {
		s, err := loadSession(ctx, r.store, key)
		if errors.Is(err, errNoStream) {
			return res, nil // nothing of ours to complete
		}
		if err != nil {
			return res, err
		}
		ev, some := Plan(s.events, *call)
		if !some {
			return res, nil
		}
		ev.FetchedAt = now.Unix()
		// The fold must take something from it, or it is not worth a record.
		after := s.facts.Clone()
		if !after.Apply(domain.Event{AppID: key.AppID, SessionID: key.SessionID, Payload: ev}) {
			return res, nil
		}
		out, err := appendOwn(ctx, r.store, s, ev, "job:"+ReconcileJobName, now)
		if errors.Is(err, eventstore.ErrConcurrency) {
			res.Retries++
			continue
		}
		if err != nil {
			return res, err
		}
		if !out.Duplicate {
			res.Appended = &ev
			r.log.Info("meeting reconciled with CometChat", "app_id", key.AppID, "session_id", key.SessionID,
				"cometchat_status", call.Status, "ended_at", ev.EndedAt, "intervals", len(ev.Intervals),
				"unmatched", len(ev.Unmatched), "recordings", len(ev.Recordings), "usage", len(ev.Usage))
			if len(ev.Usage) > 0 {
				r.m.usageDifference(after.Meeting().ProviderUsage)
			}
		}
		return res, nil
	}
	return res, fmt.Errorf("still changing after %d attempts; left for the next run", r.cfg.MaxAttempts)
}

// due reports whether Run should fetch the session now, and if so records
// that it did: never asked, or asked before its age had grown by half.
func (r *Reconciler) due(om reports.OpenMeeting, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	last, ok := r.asked[om.Key]
	if ok && now.Sub(last) < now.Sub(om.LastEventAt)/2 {
		return false
	}
	r.asked[om.Key] = now
	return true
}

// forget drops what is past MaxAge (those sessions are no longer asked about).
func (r *Reconciler) forget(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, at := range r.asked {
		if now.Sub(at) > r.cfg.MaxAge {
			delete(r.asked, k)
		}
	}
}
