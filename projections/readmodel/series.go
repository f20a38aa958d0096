package readmodel

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/reports"
)

// The series index (layout 3): the gradebook rows of each planned session,
// by series, so that a series report is one range scan.
//
//	bucket      key                          value
//	idx_series  app | series | session       scheduled_start, scheduled_end, status, then per row:
//	                                         participant, name, on_roster, verdict, scheduled seconds (binary)
//	series_of   app | session (sessions key) the series id the session is indexed under
var (
	bucketSeries   = []byte("idx_series")
	bucketSeriesOf = []byte("series_of")
)

// codeScheduled is the status code of a session with a plan and no
// provider event yet: listed in series reports, never in the meeting list.
const codeScheduled byte = 4

// seriesKey is the series index key: app, series, session.
func seriesKey(app, series, session string) []byte {
	b := make([]byte, 0, 4+len(app)+len(series)+len(session))
	return append(appendString(appendString(b, app), series), session...)
}

// seriesValue encodes m's gradebook entry (m has a series).
func seriesValue(m *domain.Meeting) []byte {
	rows := reports.SeriesRows(m)
	b := make([]byte, 0, 32+len(rows)*32)
	b = binary.AppendVarint(b, m.ScheduledStart.Unix())
	b = binary.AppendVarint(b, m.ScheduledEnd.Unix())
	b = appendString(b, string(m.Status))
	b = binary.AppendUvarint(b, uint64(len(rows)))
	for _, r := range rows {
		b = appendString(appendString(b, r.Participant), r.Name)
		var flags byte
		if r.OnRoster {
			flags = 1
		}
		b = append(b, flags)
		b = appendString(b, r.Verdict)
		b = binary.AppendVarint(b, r.ScheduledAttendedSeconds)
	}
	return b
}

// seriesReader reads the fields of a series value in order.
type seriesReader struct {
	b   []byte
	bad bool
}

func (r *seriesReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *seriesReader) str() string {
	n, k := binary.Uvarint(r.b)
	if k <= 0 || uint64(len(r.b)-k) < n {
		r.bad, r.b = true, nil
		return ""
	}
	s := string(r.b[k : k+int(n)])
	r.b = r.b[k+int(n):]
	return s
}

// decodeSeriesValue decodes an idx_series value of session.
func decodeSeriesValue(session string, v []byte) (reports.SeriesEntry, error) {
	r := seriesReader{b: v}
	e := reports.SeriesEntry{Session: reports.SeriesSession{SessionID: session}}
	e.Session.ScheduledStart = time.Unix(r.varint(), 0).UTC()
	e.Session.ScheduledEnd = time.Unix(r.varint(), 0).UTC()
	e.Session.Status = domain.Status(r.str())
	n, k := binary.Uvarint(r.b)
	if k <= 0 || n > uint64(len(r.b)) {
		return e, errCorrupt
	}
	r.b = r.b[k:]
	e.Rows = make([]reports.SeriesRow, n)
	for i := range e.Rows {
		row := &e.Rows[i]
		row.Participant, row.Name = r.str(), r.str()
		if len(r.b) < 1 {
			return e, errCorrupt
		}
		row.OnRoster = r.b[0] == 1
		r.b = r.b[1:]
		row.Verdict = r.str()
		row.ScheduledAttendedSeconds = r.varint()
	}
	if r.bad {
		return e, errCorrupt
	}
	return e, nil
}

// encodeSeries sets e's series entry from m.
func (e *encoded) encodeSeries(m *domain.Meeting) {
	if m.SeriesID != nil && m.ScheduledStart != nil {
		e.series = *m.SeriesID
		e.seriesVal = seriesValue(m)
	}
}

// putSeries indexes e under its series and removes the entry of the series
// it was indexed under before, if another.
func putSeries(tx *bolt.Tx, e *encoded) error {
	idx, of := tx.Bucket(bucketSeries), tx.Bucket(bucketSeriesOf)
	k := e.key
	if old := of.Get(e.sk); old != nil && string(old) != e.series {
		if err := idx.Delete(seriesKey(k.AppID, string(old), k.SessionID)); err != nil {
			return err
		}
	}
	if e.series == "" {
		return of.Delete(e.sk)
	}
	if err := idx.Put(seriesKey(k.AppID, e.series, k.SessionID), e.seriesVal); err != nil {
		return err
	}
	return of.Put(e.sk, []byte(e.series))
}

// Series reports one series: one range scan of its index entries.
func (s *Store) Series(ctx context.Context, q reports.SeriesQuery) (reports.SeriesReport, error) {
	if err := ctx.Err(); err != nil {
		return reports.SeriesReport{}, fmt.Errorf("readmodel: series: %w", err)
	}
	q, err := q.Normalize()
	if err != nil {
		return reports.SeriesReport{}, fmt.Errorf("readmodel: series: %w", err)
	}
	prefix := appendString(appendString(nil, q.AppID), q.SeriesID)
	var entries []reports.SeriesEntry
	err = s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSeries).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			e, err := decodeSeriesValue(string(k[len(prefix):]), v)
			if err != nil {
				return fmt.Errorf("series entry %q: %w", k[len(prefix):], err)
			}
			entries = append(entries, e)
		}
		return nil
	})
	if err != nil {
		return reports.SeriesReport{}, fmt.Errorf("readmodel: series: %w", err)
	}
	rep, err := reports.BuildSeries(q.SeriesID, entries)
	if err != nil {
		return rep, fmt.Errorf("readmodel: series %q: %w", q.SeriesID, err)
	}
	return rep, nil
}

// joined returns the rows of participants who joined (the participant
// index and the unique-participant hashes leave out absent roster rows).
func joined(rows []domain.Attendance) []domain.Attendance {
	for i, r := range rows {
		if r.JoinCount == 0 {
			out := append([]domain.Attendance(nil), rows[:i]...)
			for _, r := range rows[i+1:] {
				if r.JoinCount > 0 {
					out = append(out, r)
				}
			}
			return out
		}
	}
	return rows
}
