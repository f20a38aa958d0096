package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/meetingd/meetingd/projections"
)

// Erase rewrites the given sessions of one app (an erasure: the updates
// hold their pseudonymised state, every one of app) so that no row of
// meetingd's tables holds the identity whose pseudonym is pseudonym:
//
//  1. ALTER TABLE … DELETE mutations remove every row of the sessions from
//     session_versions first (so that the rewrite writes no tombstone keyed
//     by the old identity), then from every row table, and the roll-up rows
//     whose participants include an identity with that pseudonym (matched
//     in SQL by substring(hex(SHA256(app/participant)), 1, 12): the query
//     names only the pseudonym, so ClickHouse's query log holds no
//     identity); Erase waits until ClickHouse reports each mutation done,
//     which rewrites every part holding such rows;
//  2. the updates are written again at version, through Write, which
//     recomputes the roll-up buckets they touch.
//
// A lightweight DELETE would only mark the rows. The parts the mutations
// replaced are inactive and ClickHouse removes them after
// old_parts_lifetime (8 minutes by default); detached parts, backups and
// replicas' detached directories are not touched (PRIVACY.md). Idempotent:
// a crash in the middle is repaired by calling it again.
func (s *Sink) Erase(ctx context.Context, app, pseudonym string, updates []projections.SessionUpdate, version uint64) error {
	sessions := make([]string, 0, len(updates))
	for _, u := range updates {
		if u.Key.AppID != app {
			return fmt.Errorf("clickhouse: erase: session %s/%s is not of app %s", u.Key.AppID, u.Key.SessionID, app)
		}
		sessions = append(sessions, u.Key.SessionID)
	}
	s.flushMu.Lock()
	err := s.eraseRows(ctx, app, pseudonym, sessions)
	s.flushMu.Unlock()
	if err != nil {
		return fmt.Errorf("clickhouse: erase: %w", err)
	}
	if len(updates) == 0 {
		return nil
	}
	if err := s.Write(ctx, projections.Batch{Sessions: updates, Version: version}); err != nil {
		return fmt.Errorf("clickhouse: erase: %w", err)
	}
	return nil
}

// eraseRows runs the DELETE mutations of Erase and waits for them.
func (s *Sink) eraseRows(ctx context.Context, app, pseudonym string, sessions []string) error {
	names := []string{tHeads.name}
	for _, t := range rowTables {
		names = append(names, t.name)
	}
	if err := s.deleteSessionRows(ctx, app, sessions, names); err != nil {
		return err
	}
	hex := strings.TrimPrefix(pseudonym, "erased-")
	// The roll-up rows listing the subject: their buckets are the
	// sessions', which the rewrite recomputes.
	for _, table := range []string{tRollups, tZoneDays} {
		if err := s.conn.Exec(ctx, "ALTER TABLE "+table+` DELETE WHERE app_id = ?
		AND arrayExists(p -> lower(substring(hex(SHA256(concat(?, '/', p))), 1, 12)) = ?, participants)`, app, app, hex); err != nil {
			return fmt.Errorf("delete from %s: %w", table, err)
		}
		if err := s.awaitMutations(ctx, table); err != nil {
			return err
		}
	}
	return nil
}

// deleteSessionRows deletes the rows of app's sessions from the tables
// (ALTER TABLE … DELETE, in statements of at most QueryBytes of ids) and
// waits for each mutation.
func (s *Sink) deleteSessionRows(ctx context.Context, app string, sessions []string, tables []string) error {
	for len(sessions) > 0 {
		n, size := 0, 0
		for n < len(sessions) && (n == 0 || size+len(sessions[n])+4 <= s.cfg.QueryBytes) {
			size += len(sessions[n]) + 4
			n++
		}
		set := make([]any, n)
		for i, id := range sessions[:n] {
			set[i] = id
		}
		for _, name := range tables {
			if err := s.conn.Exec(ctx, "ALTER TABLE "+name+" DELETE WHERE app_id = ? AND session_id IN ?", app, ch.GroupSet{Value: set}); err != nil {
				return fmt.Errorf("delete from %s: %w", name, err)
			}
			if err := s.awaitMutations(ctx, name); err != nil {
				return err
			}
		}
		sessions = sessions[n:]
	}
	return nil
}

// awaitMutations waits until table has no unfinished mutation.
func (s *Sink) awaitMutations(ctx context.Context, table string) error {
	wait := 5 * time.Millisecond
	for {
		pending, err := s.unfinished(ctx, table)
		if err != nil {
			return err
		}
		if pending == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("mutations of %s: %w", table, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// unfinished counts table's mutations not done.
func (s *Sink) unfinished(ctx context.Context, table string) (uint64, error) {
	rows, err := s.conn.Query(ctx, "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND table = ? AND is_done = 0", table)
	if err != nil {
		return 0, fmt.Errorf("mutations of %s: %w", table, err)
	}
	defer rows.Close()
	var n uint64
	for rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, fmt.Errorf("mutations of %s: %w", table, err)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("mutations of %s: %w", table, err)
	}
	return n, nil
}
