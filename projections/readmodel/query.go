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

// bucketer maps ascending started_at seconds to the start of their bucket
// in a zone (reports.BucketStart): it computes a bucket's bounds once, when
// the scan leaves the current bucket, so a scan costs one zone computation
// per bucket, not per meeting.
type bucketer struct {
	width  reports.Bucket
	loc    *time.Location
	lo, hi int64 // the current bucket, [lo, hi) in Unix seconds
	start  time.Time
	valid  bool
}

// of returns the start of sec's bucket and whether it differs from the
// previous call's.
func (b *bucketer) of(sec int64) (time.Time, bool) {
	if b.valid && sec >= b.lo && sec < b.hi {
		return b.start, false
	}
	start, _ := reports.BucketStart(b.width, time.Unix(sec, 0), b.loc)
	next, _ := reports.NextBucket(b.width, start)
	b.lo, b.hi, b.start, b.valid = start.Unix(), next.Unix(), start, true
	return start, true
}

// scanEnded walks the time index of app over [from, to) in ascending order
// (one range scan) and hands each ended or abandoned meeting's summary to
// add; when a bucket of bk ends, flush gets its start and the number of
// distinct participants of its meetings. Durations and Usage are this scan
// with their own sums.
func (s *Store) scanEnded(ctx context.Context, appID string, from, to time.Time, bk bucketer,
	add func(sum *summary), flush func(start time.Time, participants int64)) error {
	prefix := appPrefix(appID)
	r := rangeOf(prefix, from, to)
	return s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketByTime).Cursor()
		var (
			seen    idSet
			sum     summary
			n       int
			open    bool
			current time.Time
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
			if at, changed := bk.of(started); !open || changed {
				if open {
					flush(current, int64(seen.len()))
				}
				seen.reset()
				open, current = true, at
			}
			add(&sum)
			for _, h := range sum.hashes {
				seen.add(h)
			}
		}
		if open {
			flush(current, int64(seen.len()))
		}
		return nil
	})
}

// Durations aggregates the ended and abandoned meetings that started in
// [q.From, q.To) into buckets of q.Location, reading only the time index:
// one ascending range scan whose values carry status, duration, attendance
// and the participants' identity hashes.
func (s *Store) Durations(ctx context.Context, q reports.DurationQuery) ([]reports.DurationBucket, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("readmodel: durations: %w", err)
	}
	q, err := q.Normalize()
	if err != nil {
		return nil, fmt.Errorf("readmodel: durations: %w", err)
	}
	out := []reports.DurationBucket{}
	var cur reports.DurationBucket
	err = s.scanEnded(ctx, q.AppID, q.From, q.To, bucketer{width: q.Bucket, loc: q.Location},
		func(sum *summary) {
			cur.Meetings++
			cur.TotalDurationSeconds += sum.duration
			cur.MaxDurationSeconds = max(cur.MaxDurationSeconds, sum.duration)
			cur.AttendanceSeconds += sum.attendance
		},
		func(start time.Time, participants int64) {
			cur.Start = start
			cur.AvgDurationSeconds = float64(cur.TotalDurationSeconds) / float64(cur.Meetings)
			cur.UniqueParticipants = participants
			out = append(out, cur)
			cur = reports.DurationBucket{}
		})
	if err != nil {
		return nil, fmt.Errorf("readmodel: durations: %w", err)
	}
	return out, nil
}

// Usage sums the media seconds and billable minutes of the ended and
// abandoned meetings that started in [q.From, q.To) into buckets of
// q.Location: the same scan as Durations, whose values carry the sums (see
// summary).
func (s *Store) Usage(ctx context.Context, q reports.UsageQuery) ([]reports.UsageBucket, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("readmodel: usage: %w", err)
	}
	q, err := q.Normalize()
	if err != nil {
		return nil, fmt.Errorf("readmodel: usage: %w", err)
	}
	out := []reports.UsageBucket{}
	var cur reports.UsageBucket
	err = s.scanEnded(ctx, q.AppID, q.From, q.To, bucketer{width: q.Bucket, loc: q.Location},
		func(sum *summary) {
			cur.Meetings++
			cur.AttendanceSeconds += sum.attendance
			cur.AudioSeconds += sum.audio
			cur.VideoSeconds += sum.video
			cur.BillableAudioMinutes += sum.billAudio
			cur.BillableVideoMinutes += sum.billVideo
		},
		func(start time.Time, participants int64) {
			cur.Start = start
			cur.Participants = participants
			out = append(out, cur)
			cur = reports.UsageBucket{}
		})
	if err != nil {
		return nil, fmt.Errorf("readmodel: usage: %w", err)
	}
	return out, nil
}
