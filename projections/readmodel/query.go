package readmodel

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/klauspost/compress/s2"
	bolt "go.etcd.io/bbolt"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/reports"
)

// ctxEvery is how many index entries a scan reads between checks of its ctx
// and of the pages it mapped (Store.trim).
const ctxEvery = 1024

// Meeting returns a meeting with its participants, or reports.ErrNotFound.
func (s *Store) Meeting(ctx context.Context, key reports.SessionKey) (domain.Meeting, error) {
	var m domain.Meeting
	if err := ctx.Err(); err != nil {
		return m, fmt.Errorf("readmodel: meeting: %w", err)
	}
	if err := key.Validate(); err != nil {
		return m, fmt.Errorf("readmodel: meeting: %w", err)
	}
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketSessions).Get(sessionKey(key))
		if v == nil {
			return fmt.Errorf("meeting %s/%s: %w", key.AppID, key.SessionID, reports.ErrNotFound)
		}
		rec, err := decodeRecord(v)
		if err != nil {
			return fmt.Errorf("meeting %s/%s: %w", key.AppID, key.SessionID, err)
		}
		row := tx.Bucket(bucketRows).Get(timeKey(key.AppID, rec.started, key.SessionID))
		if row == nil {
			return fmt.Errorf("meeting %s/%s without its row: %w", key.AppID, key.SessionID, errCorrupt)
		}
		if err := codec.UnmarshalMeeting(row, &m); err != nil {
			return fmt.Errorf("decode meeting %s/%s: %w", key.AppID, key.SessionID, err)
		}
		people, err := s2.Decode(nil, rec.people)
		if err != nil {
			return fmt.Errorf("decode participants %s/%s: %w", key.AppID, key.SessionID, err)
		}
		if err := codec.UnmarshalParticipants(people, &m); err != nil {
			return fmt.Errorf("decode participants %s/%s: %w", key.AppID, key.SessionID, err)
		}
		return nil
	})
	if err != nil {
		return domain.Meeting{}, fmt.Errorf("readmodel: %w", err)
	}
	return m, nil
}

// bounds are the [lo, hi) keys of an index range; hi == nil is the end of the
// prefix.
type bounds struct {
	prefix, lo, hi []byte
}

// rangeOf returns the keys of prefix whose started_at is in [from, to).
func rangeOf(prefix []byte, from, to time.Time) bounds {
	r := bounds{prefix: prefix, lo: prefix}
	if !from.IsZero() {
		r.lo = appendTime(bytes.Clone(prefix), ceilUnix(from))
	}
	if !to.IsZero() {
		r.hi = appendTime(bytes.Clone(prefix), ceilUnix(to))
	} else {
		r.hi = prefixEnd(prefix)
	}
	return r
}

// last positions c on the greatest key below r.hi (which may be outside r).
func (r bounds) last(c *bolt.Cursor) (k, v []byte) {
	if r.hi == nil {
		return c.Last()
	}
	if k, _ := c.Seek(r.hi); k == nil {
		return c.Last()
	}
	return c.Prev()
}

func (r bounds) in(k []byte) bool { return hasPrefixIn(k, r.prefix, r.lo) }

// statusFilter returns the index status code a normalised query keeps (0:
// every status).
func statusFilter(s domain.Status) byte {
	if s == "" {
		return 0
	}
	return statusCode(s)
}

// Meetings lists meetings newest first (started_at, then session id,
// descending), from the time index or, with a participant, that
// participant's index.
func (s *Store) Meetings(ctx context.Context, q reports.MeetingQuery) (reports.MeetingPage, error) {
	page := reports.MeetingPage{Meetings: []domain.Meeting{}}
	if err := ctx.Err(); err != nil {
		return page, fmt.Errorf("readmodel: meetings: %w", err)
	}
	q, err := q.Normalize()
	if err != nil {
		return page, fmt.Errorf("readmodel: meetings: %w", err)
	}
	want, limit := statusFilter(q.Status), q.Limit
	index, prefix := bucketByTime, appPrefix(q.AppID)
	if q.Participant != "" {
		index, prefix = bucketByPerson, personPrefix(q.AppID, q.Participant)
	}
	r := rangeOf(prefix, q.From, q.To)
	if q.Cursor != "" {
		after, err := cursorKey(prefix, q.Cursor)
		if err != nil {
			return page, fmt.Errorf("readmodel: meetings: %w", err)
		}
		if r.hi == nil || bytes.Compare(after, r.hi) < 0 {
			r.hi = after
		}
	}
	app := appPrefix(q.AppID)
	err = s.view(func(tx *bolt.Tx) error {
		rows := tx.Bucket(bucketRows)
		c := tx.Bucket(index).Cursor()
		var lastStarted int64
		var lastSession []byte
		n := 0
		for k, v := r.last(c); r.in(k); k, v = c.Prev() {
			if n++; n%ctxEvery == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
				s.trim()
			}
			if len(v) < 1 {
				return errCorrupt
			}
			if (want != 0 && v[0] != want) || v[0] == codeScheduled {
				continue // scheduled sessions are in series reports, not lists
			}
			if len(page.Meetings) == limit {
				page.NextCursor = reports.Cursor{StartedUnix: lastStarted, SessionID: string(lastSession)}.String()
				return nil
			}
			started, session := suffix(k, prefix)
			tk := k // the time index's key is the row's key
			if q.Participant != "" {
				tk = append(appendTime(app[:len(app):len(app)], started), session...)
			}
			v = rows.Get(tk)
			if v == nil {
				return fmt.Errorf("index entry of session %q without a meeting: %w", session, errCorrupt)
			}
			var m domain.Meeting
			if err := codec.UnmarshalMeeting(v, &m); err != nil {
				return fmt.Errorf("decode meeting %q: %w", session, err)
			}
			page.Meetings = append(page.Meetings, m)
			lastStarted, lastSession = started, session
		}
		return nil
	})
	if err != nil {
		return reports.MeetingPage{}, fmt.Errorf("readmodel: meetings: %w", err)
	}
	return page, nil
}

// cursorKey is the index key of a page cursor's place under prefix: the
// next page holds the keys below it.
func cursorKey(prefix []byte, cursor string) ([]byte, error) {
	cur, err := reports.ParseCursor(cursor)
	if err != nil {
		return nil, err
	}
	return append(appendTime(bytes.Clone(prefix), cur.StartedUnix), cur.SessionID...), nil
}

// ParticipantAttendance reports one participant across meetings, from the
// participant index alone: one descending scan of the range sums the totals
// from the index values (small, decoded in place) and keeps only the page's
// rows, those below the cursor's key.
func (s *Store) ParticipantAttendance(ctx context.Context, q reports.ParticipantQuery) (reports.ParticipantReport, error) {
	rep := reports.ParticipantReport{Participant: q.Participant, Meetings: []reports.ParticipantMeeting{}}
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("readmodel: participant attendance: %w", err)
	}
	q, err := q.Normalize()
	if err != nil {
		return rep, fmt.Errorf("readmodel: participant attendance: %w", err)
	}
	limit := q.Limit
	prefix := personPrefix(q.AppID, q.Participant)
	var after []byte // the page holds the keys below it; nil: from the top
	if q.Cursor != "" {
		if after, err = cursorKey(prefix, q.Cursor); err != nil {
			return rep, fmt.Errorf("readmodel: participant attendance: %w", err)
		}
	}
	r := rangeOf(prefix, q.From, q.To)
	err = s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketByPerson).Cursor()
		n := 0
		more := false
		var lastStarted int64
		for k, v := r.last(c); r.in(k); k, v = c.Prev() {
			if n++; n%ctxEvery == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
				s.trim()
			}
			attended, joins, ratio, err := decodeAttendance(v)
			if err != nil {
				return err
			}
			rep.TotalAttendedSeconds += attended
			rep.MeetingsAttended++
			switch {
			case after != nil && bytes.Compare(k, after) >= 0, more:
				continue // before the page, or after it: counted only
			case len(rep.Meetings) == limit:
				more = true
				continue
			}
			started, session := suffix(k, prefix)
			rep.Meetings = append(rep.Meetings, reports.ParticipantMeeting{
				SessionID: string(session), StartedAt: timeOf(started),
				AttendedSeconds: attended, AttendanceRatio: ratio, JoinCount: joins,
			})
			lastStarted = started
		}
		if more {
			last := rep.Meetings[len(rep.Meetings)-1]
			rep.NextCursor = reports.Cursor{StartedUnix: lastStarted, SessionID: last.SessionID}.String()
		}
		return nil
	})
	if err != nil {
		return reports.ParticipantReport{}, fmt.Errorf("readmodel: participant attendance: %w", err)
	}
	return rep, nil
}

// timeOf converts index seconds back to the read model's time (0: unknown).
func timeOf(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

// bucketStart returns the start of the UTC bucket holding sec, and whether
// the width is one of the package's constants (it is, once normalised).
func bucketStart(width reports.Bucket) (func(sec int64) int64, bool) {
	floor := func(sec, d int64) int64 {
		q := sec / d
		if sec%d < 0 {
			q--
		}
		return q * d
	}
	switch width {
	case reports.Hour:
		return func(sec int64) int64 { return floor(sec, 3600) }, true
	case reports.Day:
		return func(sec int64) int64 { return floor(sec, 86400) }, true
	case reports.Week:
		// 1970-01-05, four days after the epoch (a Thursday), was a Monday.
		const monday = 4 * 86400
		return func(sec int64) int64 { return floor(sec-monday, 7*86400) + monday }, true
	}
	return nil, false
}

// Durations aggregates the ended and abandoned meetings that started in
// [q.From, q.To) into buckets, reading only the time index: one ascending
// range scan whose values carry status, duration, attendance and the
// participants' identity hashes.
func (s *Store) Durations(ctx context.Context, q reports.DurationQuery) ([]reports.DurationBucket, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("readmodel: durations: %w", err)
	}
	q, err := q.Normalize()
	if err != nil {
		return nil, fmt.Errorf("readmodel: durations: %w", err)
	}
	startOf, ok := bucketStart(q.Bucket)
	if !ok {
		return nil, fmt.Errorf("readmodel: durations: bucket %q has no width", q.Bucket)
	}
	prefix := appPrefix(q.AppID)
	r := rangeOf(prefix, q.From, q.To)
	out := []reports.DurationBucket{}
	err = s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketByTime).Cursor()
		var (
			cur    *reports.DurationBucket
			curAt  int64
			seen   = make(map[uint64]struct{})
			sum    summary
			n      int
			finish = func() {
				if cur != nil {
					cur.AvgDurationSeconds = float64(cur.TotalDurationSeconds) / float64(cur.Meetings)
					cur.UniqueParticipants = int64(len(seen))
					out = append(out, *cur)
					cur = nil
				}
			}
		)
		for k, v := c.Seek(r.lo); k != nil && bytes.HasPrefix(k, prefix) && (r.hi == nil || bytes.Compare(k, r.hi) < 0); k, v = c.Next() {
			if n++; n%ctxEvery == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
				s.trim()
			}
			if len(v) < 1 {
				return errCorrupt
			}
			if v[0] != codeEnded && v[0] != codeAbandoned {
				continue
			}
			if err := decodeSummary(v, &sum); err != nil {
				return err
			}
			started, _ := suffix(k, prefix)
			at := startOf(started)
			if cur == nil || at != curAt {
				finish()
				clear(seen)
				cur, curAt = &reports.DurationBucket{Start: time.Unix(at, 0).UTC()}, at
			}
			cur.Meetings++
			cur.TotalDurationSeconds += sum.duration
			cur.MaxDurationSeconds = max(cur.MaxDurationSeconds, sum.duration)
			cur.AttendanceSeconds += sum.attendance
			for _, h := range sum.hashes {
				seen[h] = struct{}{}
			}
		}
		finish()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("readmodel: durations: %w", err)
	}
	return out, nil
}
