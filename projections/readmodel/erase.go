package readmodel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/klauspost/compress/s2"
	bolt "go.etcd.io/bbolt"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/internal/boltscrub"
	"github.com/meetingd/meetingd/projections"
)

// pseudonymiseChunk bounds the sessions rewritten in one transaction.
const pseudonymiseChunk = 4096

// Pseudonymise rewrites every session of app whose fold state names a
// participant for which match is true (domain.PseudonymOf: as a person, an unmatched REST occupant, a REST usage row,
// the ringing initiator or receiver, or a roster member) with the
// participant and every name they had replaced by pseudonym
// (domain.FactsState.Pseudonymise): its record, meeting row, attendance
// rows and every index entry, keeping the version it was written with, so
// that the runner's later writes of the session apply as before. The
// checkpoint is not touched. It returns the sessions rewritten, as the
// updates written (for the other sinks). Freed pages of the file still hold
// the old bytes until Compact.
//
// Cost: one scan of the app's session records, testing each record's
// indexed attendees (a SHA-256 each, no decoding) and decoding the facts
// only of a record where one matches or whose facts hold a role outside
// the attendees (REST occupants, ringing, REST usage, a plan's roster);
// then one rewrite per matching session.
func (s *Store) Pseudonymise(ctx context.Context, app string, match func(id string) bool, pseudonym string) ([]projections.SessionUpdate, error) {
	if app == "" || match == nil || pseudonym == "" {
		return nil, errors.New("readmodel: pseudonymise: empty app, match or pseudonym")
	}
	var all []projections.SessionUpdate
	var after []byte
	for {
		if err := ctx.Err(); err != nil {
			return all, fmt.Errorf("readmodel: pseudonymise: %w", err)
		}
		var (
			ups      []projections.SessionUpdate
			versions []uint64
			next     []byte
		)
		err := s.view(func(tx *bolt.Tx) error {
			var err error
			ups, versions, next, err = findSubject(tx, app, match, pseudonym, after)
			return err
		})
		if err != nil {
			return all, fmt.Errorf("readmodel: pseudonymise: %w", err)
		}
		if len(ups) > 0 {
			if err := s.rewrite(ctx, ups, versions); err != nil {
				return all, fmt.Errorf("readmodel: pseudonymise: %w", err)
			}
			all = append(all, ups...)
		}
		if next == nil {
			return all, nil
		}
		after = next
	}
}

// findSubject scans app's session records after the key after (nil: from
// the first) and returns, for up to pseudonymiseChunk sessions naming
// participant, the pseudonymised update and the stored version, and the
// key to continue after (nil at the end of the app).
func findSubject(tx *bolt.Tx, app string, match func(string) bool, pseudonym string, after []byte) ([]projections.SessionUpdate, []uint64, []byte, error) {
	prefix := appPrefix(app)
	c := tx.Bucket(bucketSessions).Cursor()
	var k, v []byte
	if after == nil {
		k, v = c.Seek(prefix)
	} else if k, v = c.Seek(after); bytes.Equal(k, after) {
		k, v = c.Next()
	}
	var (
		ups      []projections.SessionUpdate
		versions []uint64
		buf      []byte
	)
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		rec, err := decodeRecord(v)
		if err != nil {
			return nil, nil, nil, err
		}
		if len(rec.facts) == 0 {
			continue
		}
		named, err := namesAny(&rec, match)
		if err != nil {
			return nil, nil, nil, err
		}
		if buf, err = s2.Decode(buf[:cap(buf)], rec.facts); err != nil {
			return nil, nil, nil, err
		}
		if !named && !hasOtherRoles(buf) {
			continue // no attendee matches, and no other role could
		}
		key, err := parseSessionKey(k)
		if err != nil {
			return nil, nil, nil, err
		}
		f := domain.NewFacts(key.AppID, key.SessionID)
		if err := codec.UnmarshalFacts(buf, f); err != nil {
			return nil, nil, nil, fmt.Errorf("session %s/%s: %w", key.AppID, key.SessionID, err)
		}
		st, changed := f.State().Pseudonymise(match, pseudonym)
		if !changed {
			continue
		}
		nf := domain.NewFacts(key.AppID, key.SessionID)
		if err := nf.MergeState(st); err != nil {
			return nil, nil, nil, fmt.Errorf("session %s/%s: %w", key.AppID, key.SessionID, err)
		}
		ups = append(ups, projections.SessionUpdate{Key: key, Facts: nf, Meeting: nf.Meeting()})
		versions = append(versions, rec.version)
		if len(ups) == pseudonymiseChunk {
			return ups, versions, bytes.Clone(k), nil
		}
	}
	return ups, versions, nil, nil
}

// otherRoles are the keys of the stored facts (domain.FactsState) that can
// name a participant who is not among the record's indexed attendees.
var otherRoles = [][]byte{[]byte(`"unmatched"`), []byte(`"ringing"`), []byte(`"provider_usage"`), []byte(`"plan"`)}

// hasOtherRoles reports whether the stored facts hold any of otherRoles.
func hasOtherRoles(facts []byte) bool {
	for _, k := range otherRoles {
		if bytes.Contains(facts, k) {
			return true
		}
	}
	return false
}

// namesAny reports whether one of the record's indexed attendees matches.
func namesAny(rec *record, match func(string) bool) (bool, error) {
	ids, err := rec.participantIDs()
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(ids, match), nil
}

// rewrite writes updates, each at its stored version, in one transaction.
func (s *Store) rewrite(ctx context.Context, ups []projections.SessionUpdate, versions []uint64) error {
	enc := make([]encoded, len(ups))
	for i, u := range ups {
		var err error
		if enc[i], err = encode(u, sessionKey(u.Key), versions[i]); err != nil {
			return fmt.Errorf("encode %s/%s: %w", u.Key.AppID, u.Key.SessionID, err)
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db.Update(func(tx *bolt.Tx) error {
		w := &writer{sessions: tx.Bucket(bucketSessions), byTime: tx.Bucket(bucketByTime), byPerson: tx.Bucket(bucketByPerson), rows: tx.Bucket(bucketRows)}
		for i := range enc {
			if err := indexOpen(tx, &enc[i], versions[i]); err != nil {
				return err
			}
			if err := w.put(tx, &enc[i]); err != nil {
				return err
			}
		}
		if err := w.putIndexes(); err != nil {
			return err
		}
		s.trim()
		return ctx.Err()
	})
}

// Compact rewrites the file into a new one holding only its live keys and
// values, then replaces the old file with it: the pages bbolt freed (which
// keep the bytes of every value overwritten or deleted, such as the
// identities that Pseudonymise replaced) are gone with the old file. It
// waits for running queries and writes, as Reset does. A crash leaves the
// old file (and a stray .compact file, removed by the next Compact) or the
// new one.
func (s *Store) Compact(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("readmodel: compact: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tmp := s.path + ".compact"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("readmodel: compact: %w", err)
	}
	// The copy is synced once, at the end (it is not the store until the
	// rename), and mapped at the source's size from the start: growing
	// the mapping copies every node of the open transaction each time.
	src, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("readmodel: compact: %w", err)
	}
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{FreelistType: bolt.FreelistMapType, NoSync: true, NoGrowSync: true,
		InitialMmapSize: int(min(src.Size(), 64<<30))})
	if err != nil {
		return fmt.Errorf("readmodel: compact: %w", err)
	}
	if err := bolt.Compact(dst, s.db, 256<<20); err != nil {
		return errors.Join(fmt.Errorf("readmodel: compact: %w", err), dst.Close(), os.Remove(tmp))
	}
	if err := errors.Join(dst.Sync(), dst.Close()); err != nil {
		return errors.Join(fmt.Errorf("readmodel: compact: %w", err), os.Remove(tmp))
	}
	if err := errors.Join(s.db.Close(), s.rel.Close()); err != nil {
		return fmt.Errorf("readmodel: compact: close: %w", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		err = fmt.Errorf("readmodel: compact: %w", err)
		return errors.Join(err, s.openFile())
	}
	if err := syncDir(s.path); err != nil {
		return errors.Join(fmt.Errorf("readmodel: compact: %w", err), s.openFile())
	}
	if err := s.openFile(); err != nil {
		return fmt.Errorf("readmodel: compact: reopen: %w", err)
	}
	return nil
}

// syncDir fsyncs the directory holding path, making a rename durable.
func syncDir(path string) error {
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// Scrub overwrites every free page of the file with zeros, in place, then
// fsyncs it: bbolt keeps the bytes of every value it replaced or deleted
// in the pages it freed (and reuses them only as it needs them), so after
// Pseudonymise the freed pages still hold the identities it replaced. It
// waits for running queries and writes, and holds bbolt's writer lock
// while it writes, so no page it zeroes is read or reused meanwhile; the
// pages it zeroes are those bbolt itself would overwrite when reusing them.
// Cost: one read of every page header (the file's pages, not its data)
// and one write per free page: far less than Compact, which copies every
// key and value into a new file.
func (s *Store) Scrub(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("readmodel: scrub: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var zeroed int
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		zeroed, err = boltscrub.FreePages(ctx, tx)
		return err
	})
	if err != nil {
		return fmt.Errorf("readmodel: scrub: %w", err)
	}
	s.log.Info("read-model free pages scrubbed", "pages", zeroed)
	return nil
}
