package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/reports"
)

// SinkConfig tunes a Sink.
type SinkConfig struct {
	// FlushSessions flushes the open batch as soon as it holds this many
	// sessions (default 1000).
	FlushSessions int
	// FlushAge flushes the open batch this long after the write that opened
	// it (default 500ms), so that a trickle of small projection batches makes
	// about two inserts per second per table rather than one per batch.
	FlushAge time.Duration
	// QueryBytes bounds the session ids that one head lookup names (default
	// 128 KiB, under ClickHouse's default max_query_size of 256 KiB).
	QueryBytes int
}

func (c *SinkConfig) setDefaults() {
	if c.FlushSessions == 0 {
		c.FlushSessions = 1000
	}
	if c.FlushAge == 0 {
		c.FlushAge = 500 * time.Millisecond
	}
	if c.QueryBytes == 0 {
		c.QueryBytes = defaultQueryBytes
	}
}

// Validate reports every problem of c.
func (c SinkConfig) Validate() error {
	var errs []error
	if c.FlushSessions < 1 {
		errs = append(errs, errors.New("clickhouse: FlushSessions must be positive"))
	}
	if c.FlushAge <= 0 {
		errs = append(errs, errors.New("clickhouse: FlushAge must be positive"))
	}
	if c.QueryBytes < 1024 {
		errs = append(errs, errors.New("clickhouse: QueryBytes must be at least 1024"))
	}
	return errors.Join(errs...)
}

// defaultQueryBytes is SinkConfig.QueryBytes's default: under ClickHouse's
// default max_query_size of 256 KiB.
const defaultQueryBytes = 128 << 10

// Conn is the part of a clickhouse-go connection the package uses;
// driver.Conn is one.
type Conn interface {
	Migrator
	Ping(ctx context.Context) error
}

// Sink is the projections.Sink that writes the read models to ClickHouse.
//
// Writes join the open batch, which is flushed — one INSERT per table,
// naming its columns, then the report roll-ups of the buckets it touched
// (one INSERT … SELECT per width) — when it holds FlushSessions sessions or FlushAge
// after it was opened, whichever comes first (one timer per batch). Write
// returns only once ClickHouse has acknowledged every insert of the batch
// holding its sessions, so the runner's checkpoint never passes rows that
// ClickHouse does not have; a failed flush fails every Write waiting on it
// (the runner retries with backoff). Flushes run one at a time.
//
// Write is idempotent: a session is written at the batch's version; a
// session whose stored version is newer is skipped; rows of keys that the
// session's stored version had and the new one has not are tombstoned
// (deleted = 1) at the new version. See the package documentation.
//
// Safe for concurrent use. Reset must not run concurrently with Write.
type Sink struct {
	cfg  SinkConfig
	conn Conn
	log  *slog.Logger

	mu  sync.Mutex
	cur *pending // the open batch, nil when none

	flushMu sync.Mutex // one flush at a time (it reads the heads it replaces)
}

var _ projections.Sink = (*Sink)(nil)

// NewSink returns a Sink writing through conn, whose database must be
// migrated (Migrate).
func NewSink(cfg SinkConfig, conn Conn, log *slog.Logger) (*Sink, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if conn == nil {
		return nil, errors.New("clickhouse: nil connection")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sink{cfg: cfg, conn: conn, log: log}, nil
}

// pending is one batch being filled: the newest update of each session.
type pending struct {
	updates map[reports.SessionKey]versioned
	timer   *time.Timer
	done    chan struct{} // closed when the flush has finished
	err     error         // the flush's result, set before done is closed
}

type versioned struct {
	u projections.SessionUpdate
	v uint64
}

// Write adds b's sessions to the open batch and waits until that batch is
// in ClickHouse (or ctx ends).
func (s *Sink) Write(ctx context.Context, b projections.Batch) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("clickhouse: write: %w", err)
	}
	if len(b.Sessions) == 0 {
		return nil
	}
	s.mu.Lock()
	p := s.cur
	if p == nil {
		p = &pending{
			updates: make(map[reports.SessionKey]versioned, len(b.Sessions)),
			timer:   time.NewTimer(s.cfg.FlushAge),
			done:    make(chan struct{}),
		}
		s.cur = p
	}
	for _, u := range b.Sessions {
		if have, ok := p.updates[u.Key]; ok && have.v > b.Version {
			continue
		}
		p.updates[u.Key] = versioned{u, b.Version}
	}
	full := len(p.updates) >= s.cfg.FlushSessions
	if full {
		s.cur = nil
		p.timer.Stop()
	}
	s.mu.Unlock()
	if full {
		s.run(ctx, p)
	}
	for {
		select {
		case <-p.done:
			if p.err != nil {
				return fmt.Errorf("clickhouse: write: %w", p.err)
			}
			return nil
		case <-p.timer.C:
			// The batch's age is up: whoever receives the tick flushes it,
			// unless a full batch was taken already.
			s.mu.Lock()
			mine := s.cur == p
			if mine {
				s.cur = nil
			}
			s.mu.Unlock()
			if mine {
				s.run(ctx, p)
			}
		case <-ctx.Done():
			// The batch stays open: a later Write (the runner's retry)
			// flushes it, or the checkpoint never covers it.
			return fmt.Errorf("clickhouse: write: %w", ctx.Err())
		}
	}
}

// run flushes p and publishes the result to its waiters.
func (s *Sink) run(ctx context.Context, p *pending) {
	s.flushMu.Lock()
	start := time.Now()
	rows, err := s.flush(ctx, p.updates)
	s.flushMu.Unlock()
	if err != nil {
		s.log.Warn("clickhouse flush failed", "sessions", len(p.updates), "error", err)
	} else {
		s.log.Debug("clickhouse flush", "sessions", len(p.updates), "rows", rows, "took", time.Since(start))
	}
	p.err = err
	close(p.done)
}

// flush writes the sessions in four steps: intents (session_versions rows
// with committed = 0 holding every key that may be live once the rows are
// in), the rows and tombstones of every table, the report roll-ups of
// every bucket those meetings rows are in, and the commits (committed = 1,
// exactly the new keys). A flush cut off anywhere leaves the newest
// session_versions row naming every key that may be live, so the next flush
// of the session tombstones whatever it no longer has and recomputes the
// roll-ups of every bucket the session was or is in.
func (s *Sink) flush(ctx context.Context, updates map[reports.SessionKey]versioned) (int, error) {
	keys := make([]reports.SessionKey, 0, len(updates))
	for k := range updates {
		keys = append(keys, k)
	}
	heads, err := s.readHeads(ctx, keys)
	if err != nil {
		return 0, err
	}
	intents, rs, commits, touched, err := buildFlush(keys, updates, heads)
	if err != nil {
		return 0, err
	}
	if err := s.insert(ctx, tHeads, intents.rows[tHeads.name]); err != nil {
		return 0, err
	}
	for _, t := range rowTables {
		if err := s.insert(ctx, t, rs.rows[t.name]); err != nil {
			return 0, err
		}
	}
	if _, err := recomputeRollups(ctx, s.conn, touched, s.cfg.QueryBytes, 0); err != nil {
		return 0, err
	}
	if err := s.insert(ctx, tHeads, commits.rows[tHeads.name]); err != nil {
		return 0, err
	}
	return rs.count() + intents.count() + commits.count(), nil
}

// buildFlush returns the rows of a flush of keys (see flush): the intents,
// the rows and tombstones, the commits, and the hours whose roll-ups the
// rows change: of every start the session's head names (its current rows,
// and those of a flush that was cut off) and of its new start.
func buildFlush(keys []reports.SessionKey, updates map[reports.SessionKey]versioned, heads map[reports.SessionKey]*head) (intents, rs, commits *rowSet, touched hours, err error) {
	intents, rs, commits, touched = newRowSet(), newRowSet(), newRowSet(), hours{}
	for _, k := range keys {
		e := updates[k]
		prev := heads[k]
		var (
			base      *keySet
			seq, last uint64
		)
		if prev != nil {
			if prev.version > e.v {
				continue // a newer version is committed: this one changes nothing
			}
			base, seq, last = &prev.keys, prev.seq, prev.version
			for _, st := range prev.keys.starts {
				touched.add(k.AppID, st.Unix())
			}
		}
		ks, err := addSession(rs, e.u, e.v, base)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		started := dt(e.u.Meeting.StartedAt)
		touched.add(k.AppID, started.Unix())
		if base == nil || !ks.within(base) || !prev.committed {
			all := ks
			if base != nil {
				all = union(base, ks)
			}
			intents.add(tHeads, headRow(k.AppID, k.SessionID, seq+1, false, last, started, all)...)
		}
		commits.add(tHeads, headRow(k.AppID, k.SessionID, seq+2, true, e.v, started, ks)...)
	}
	for _, set := range []*rowSet{intents, rs, commits} {
		if set.err != nil {
			return nil, nil, nil, nil, set.err
		}
	}
	return intents, rs, commits, touched, nil
}

// insert sends rows to t in one INSERT that names the columns.
func (s *Sink) insert(ctx context.Context, t table, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	batch, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+t.name+" ("+strings.Join(t.columns, ", ")+")")
	if err != nil {
		return fmt.Errorf("insert into %s: %w", t.name, err)
	}
	for _, r := range rows {
		if err := batch.Append(r...); err != nil {
			_ = batch.Abort()
			return fmt.Errorf("insert into %s: %w", t.name, err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("insert into %s: %d rows: %w", t.name, len(rows), err)
	}
	return nil
}

// readHeads returns the stored heads of keys (absent: not stored), asking
// per app, in chunks of at most QueryBytes of session ids.
func (s *Sink) readHeads(ctx context.Context, keys []reports.SessionKey) (map[reports.SessionKey]*head, error) {
	byApp := map[string][]string{}
	for _, k := range keys {
		byApp[k.AppID] = append(byApp[k.AppID], k.SessionID)
	}
	out := make(map[reports.SessionKey]*head, len(keys))
	for app, sessions := range byApp {
		for len(sessions) > 0 {
			n, size := 0, 0
			for n < len(sessions) && (n == 0 || size+len(sessions[n])+4 <= s.cfg.QueryBytes) {
				size += len(sessions[n]) + 4
				n++
			}
			if err := s.readHeadChunk(ctx, app, sessions[:n], out); err != nil {
				return nil, err
			}
			sessions = sessions[n:]
		}
	}
	return out, nil
}

func (s *Sink) readHeadChunk(ctx context.Context, app string, sessions []string, out map[reports.SessionKey]*head) error {
	set := make([]any, len(sessions))
	for i, id := range sessions {
		set[i] = id
	}
	rows, err := s.conn.Query(ctx, `SELECT session_id, seq, committed, version, started_at, meeting_starts,
		attendance_participants, attendance_starts, interval_participants, interval_joined_at,
		recording_kinds, recording_urls, is_call
		FROM session_versions FINAL WHERE app_id = ? AND session_id IN ?`, app, ch.GroupSet{Value: set})
	if err != nil {
		return fmt.Errorf("read session versions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id                string
			h                 head
			committed, isCall uint8
			starts, attS, ivJ []time.Time
			attP, ivP, rK, rU []string
		)
		if err := rows.Scan(&id, &h.seq, &committed, &h.version, &h.startedAt, &starts, &attP, &attS, &ivP, &ivJ,
			&rK, &rU, &isCall); err != nil {
			return fmt.Errorf("read session versions: %w", err)
		}
		h.committed = committed == 1
		h.startedAt = h.startedAt.UTC()
		h.keys = scanKeys(starts, attP, attS, ivP, ivJ, rK, rU, isCall == 1)
		out[reports.SessionKey{AppID: app, SessionID: id}] = &h
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read session versions: %w", err)
	}
	return nil
}

// Reset empties every table (for rebuild). The schema and the migrations
// table stay. session_versions goes first: a Reset cut off part-way must
// not leave the heads of sessions whose rows are gone, or the next flushes
// would skip those sessions as already written at a newer version
// (TestCrashConsistency in cmd/meetingd kills rebuilds). Rows left behind
// by a cut-off Reset hold the same log's state and are rewritten.
func (s *Sink) Reset(ctx context.Context) error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	names := []string{tHeads.name, tRollups, tZoneDays} // (the registered offsets stay: the replay rebuilds their rows)
	for _, t := range rowTables {
		names = append(names, t.name)
	}
	for _, name := range names {
		if err := s.conn.Exec(ctx, "TRUNCATE TABLE "+name); err != nil {
			return fmt.Errorf("clickhouse: reset %s: %w", name, err)
		}
	}
	s.log.Info("clickhouse tables reset")
	return nil
}

// Ping reports whether ClickHouse answers.
func (s *Sink) Ping(ctx context.Context) error {
	if err := s.conn.Ping(ctx); err != nil {
		return fmt.Errorf("clickhouse: %w", err)
	}
	return nil
}
