package readmodel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/fnv"
	"math"
	"time"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/reports"
)

// Bucket names (see the package documentation for their keys and values).
var (
	bucketMeta     = []byte("meta")
	bucketSessions = []byte("sessions")
	bucketByTime   = []byte("idx_time")
	bucketByPerson = []byte("idx_participant")
	bucketRows     = []byte("rows")

	allBuckets = [][]byte{bucketMeta, bucketSessions, bucketByTime, bucketByPerson, bucketRows, bucketOpen, bucketOpenSessions,
		bucketSeries, bucketSeriesOf}

	keyCheckpoint = []byte("checkpoint")
	keyLayout     = []byte("layout")
)

// LayoutVersion is the version of the key and value layout this package
// writes; a store written with another layout is emptied when opened and
// rebuilt from the event log (see Open), and benchmarks that keep data sets
// between runs key them by it. Version 2 moved the meeting rows out of the
// session records into their own bucket, in time order; version 3 added the
// media sums to the time index values (the usage report) and the series
// buckets (attendance plans).
const LayoutVersion = 3

// appendString appends s length-prefixed (uvarint length, then the bytes), so
// that a sequence of such strings is prefix-free: the keys of one app (or one
// app's participant) never share a prefix with another's.
func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// appendTime appends Unix seconds as 8 bytes that sort like the signed value.
func appendTime(dst []byte, sec int64) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(sec)^(1<<63))
}

func readTime(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)) }

// unixOf returns t's Unix seconds; the zero Time (unknown) maps to 0 like the
// fold's timestamps do.
func unixOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// ceilUnix returns the smallest whole second not before t, so that for whole
// seconds s: s >= t ⇔ s >= ceilUnix(t), and s < t ⇔ s < ceilUnix(t).
func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// sessionKey is the key of a session in the sessions bucket: app
// (length-prefixed), then the session id.
func sessionKey(k reports.SessionKey) []byte {
	b := make([]byte, 0, 2+len(k.AppID)+len(k.SessionID))
	b = appendString(b, k.AppID)
	return append(b, k.SessionID...)
}

// appPrefix is the prefix of one app's keys in the time index.
func appPrefix(app string) []byte { return appendString(make([]byte, 0, 2+len(app)), app) }

// personPrefix is the prefix of one participant's keys in the participant index.
func personPrefix(app, participant string) []byte {
	b := make([]byte, 0, 4+len(app)+len(participant))
	return appendString(appendString(b, app), participant)
}

// timeKey is the time index key: app, started_at, session.
func timeKey(app string, started int64, session string) []byte {
	b := make([]byte, 0, 2+len(app)+8+len(session))
	return append(appendTime(appendString(b, app), started), session...)
}

// personKey is the participant index key: app, participant, started_at, session.
func personKey(app, participant string, started int64, session string) []byte {
	b := make([]byte, 0, 4+len(app)+len(participant)+8+len(session))
	return append(appendTime(appendString(appendString(b, app), participant), started), session...)
}

// suffix splits the (started_at, session) tail of an index key.
func suffix(key, prefix []byte) (started int64, session []byte) {
	rest := key[len(prefix):]
	return readTime(rest[:8]), rest[8:]
}

// Status codes in index values. Statuses this version does not know are 0.
const (
	codeOther byte = iota
	codeLive
	codeEnded
	codeAbandoned
)

func statusCode(s domain.Status) byte {
	switch s {
	case domain.StatusLive:
		return codeLive
	case domain.StatusEnded:
		return codeEnded
	case domain.StatusAbandoned:
		return codeAbandoned
	case domain.StatusScheduled:
		return codeScheduled
	}
	return codeOther
}

// participantHash is the 64-bit identity hash kept in the time index for the
// unique-participant counts (FNV-1a: stable across processes and versions).
func participantHash(id string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return h.Sum64()
}

// summary is the time index value: what the meeting list filters on and what
// the duration and usage reports aggregate, so that none reads the meetings
// bucket to decide.
//
//	status(1) duration(varint) participant_count(uvarint) attendance(varint)
//	n(uvarint) n × participant hash (8 bytes, little endian)
//	audio_seconds(varint) video_seconds(varint)
//	billable_audio_minutes(varint) billable_video_minutes(varint)
//
// The billable minutes are the meeting's rows' ceil(seconds/60) summed (API.md
// "Usage"), so that the report needs no row.
type summary struct {
	status     byte
	duration   int64
	count      int64
	attendance int64
	hashes     []uint64
	audio      int64
	video      int64
	billAudio  int64
	billVideo  int64
}

// billableMinutes is seconds rounded up to whole minutes (0 for none).
func billableMinutes(sec int64) int64 {
	if sec <= 0 {
		return 0
	}
	return (sec + 59) / 60
}

func summaryOf(m domain.Meeting) []byte {
	b := make([]byte, 0, 1+7*binary.MaxVarintLen64+8*len(m.Participants)+2)
	b = append(b, statusCode(m.Status))
	b = binary.AppendVarint(b, m.DurationSeconds)
	b = binary.AppendUvarint(b, uint64(m.ParticipantCount))
	b = binary.AppendVarint(b, m.TotalAttendanceSeconds)
	people := joined(m.Participants)
	b = binary.AppendUvarint(b, uint64(len(people)))
	var billAudio, billVideo int64
	for _, p := range people {
		b = binary.LittleEndian.AppendUint64(b, participantHash(p.Participant))
		billAudio += billableMinutes(p.AudioSeconds)
		billVideo += billableMinutes(p.VideoSeconds)
	}
	b = binary.AppendVarint(b, m.AudioSeconds)
	b = binary.AppendVarint(b, m.VideoSeconds)
	b = binary.AppendVarint(b, billAudio)
	return binary.AppendVarint(b, billVideo)
}

var errCorrupt = errors.New("readmodel: corrupt record")

// decodeSummary decodes v into s, reusing s.hashes.
func decodeSummary(v []byte, s *summary) error {
	if len(v) < 1 {
		return errCorrupt
	}
	s.status = v[0]
	r := v[1:]
	var n int
	var u uint64
	if s.duration, n = binary.Varint(r); n <= 0 {
		return errCorrupt
	}
	r = r[n:]
	if u, n = binary.Uvarint(r); n <= 0 {
		return errCorrupt
	}
	s.count, r = int64(u), r[n:]
	if s.attendance, n = binary.Varint(r); n <= 0 {
		return errCorrupt
	}
	r = r[n:]
	if u, n = binary.Uvarint(r); n <= 0 || u > uint64(len(r)-n)/8 {
		return errCorrupt
	}
	r = r[n:]
	s.hashes = s.hashes[:0]
	for i := uint64(0); i < u; i++ {
		s.hashes = append(s.hashes, binary.LittleEndian.Uint64(r[8*i:]))
	}
	r = r[8*u:]
	for _, dst := range [...]*int64{&s.audio, &s.video, &s.billAudio, &s.billVideo} {
		if *dst, n = binary.Varint(r); n <= 0 {
			return errCorrupt
		}
		r = r[n:]
	}
	return nil
}

// attendanceOf is the participant index value:
//
//	status(1) attended_seconds(varint) join_count(uvarint) attendance_ratio(8, float64 bits)
func attendanceOf(status domain.Status, a domain.Attendance) []byte {
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+8)
	b = append(b, statusCode(status))
	b = binary.AppendVarint(b, a.AttendedSeconds)
	b = binary.AppendUvarint(b, uint64(a.JoinCount))
	return binary.BigEndian.AppendUint64(b, math.Float64bits(a.AttendanceRatio))
}

func decodeAttendance(v []byte) (attended int64, joins int, ratio float64, err error) {
	if len(v) < 1 {
		return 0, 0, 0, errCorrupt
	}
	r := v[1:]
	var n int
	if attended, n = binary.Varint(r); n <= 0 {
		return 0, 0, 0, errCorrupt
	}
	r = r[n:]
	u, n := binary.Uvarint(r)
	if n <= 0 || len(r)-n != 8 {
		return 0, 0, 0, errCorrupt
	}
	return attended, int(u), math.Float64frombits(binary.BigEndian.Uint64(r[n:])), nil
}

// record is the sessions bucket value: everything stored of one session, in
// sections that each reader slices out without decoding the others.
//
//	format(1) version(8) started_at(8, as in keys)
//	len(uvarint) participants: codec.Participants, JSON, s2-compressed
//	len(uvarint) facts: domain.Facts, JSON, s2-compressed (empty: none stored)
//	n(uvarint) n × participant identity (length-prefixed): what the indexes hold
//
// The meeting itself (without participants) is not in the record but in the
// rows bucket, under its time key (see the package documentation).
//
// The byte slices of a decoded record point into the transaction's memory.
type record struct {
	version uint64
	started int64
	people  []byte
	facts   []byte
	ids     []byte // the encoded identity list, decoded by participantIDs
}

const recordFormat = 2

func (r *record) encode(ids []string) []byte {
	size := 1 + 8 + 8 + 3*binary.MaxVarintLen64 + len(r.people) + len(r.facts)
	for _, p := range ids {
		size += binary.MaxVarintLen64 + len(p)
	}
	b := make([]byte, 0, size)
	b = append(b, recordFormat)
	b = binary.BigEndian.AppendUint64(b, r.version)
	b = appendTime(b, r.started)
	for _, sec := range [][]byte{r.people, r.facts} {
		b = binary.AppendUvarint(b, uint64(len(sec)))
		b = append(b, sec...)
	}
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, p := range ids {
		b = appendString(b, p)
	}
	return b
}

// decodeRecord slices v into its sections.
func decodeRecord(v []byte) (record, error) {
	var r record
	if len(v) < 17 || v[0] != recordFormat {
		return r, errCorrupt
	}
	r.version, r.started = binary.BigEndian.Uint64(v[1:]), readTime(v[9:])
	rest := v[17:]
	for _, sec := range []*[]byte{&r.people, &r.facts} {
		l, n := binary.Uvarint(rest)
		if n <= 0 || l > uint64(len(rest)-n) {
			return r, errCorrupt
		}
		*sec, rest = rest[n:n+int(l)], rest[n+int(l):]
	}
	r.ids = rest
	return r, nil
}

// participantIDs decodes the identity list of a record.
func (r *record) participantIDs() ([]string, error) {
	rest := r.ids
	count, n := binary.Uvarint(rest)
	if n <= 0 || count > uint64(len(rest)) {
		return nil, errCorrupt
	}
	rest = rest[n:]
	out := make([]string, 0, count)
	for range count {
		l, n := binary.Uvarint(rest)
		if n <= 0 || l > uint64(len(rest)-n) {
			return nil, errCorrupt
		}
		out = append(out, string(rest[n:n+int(l)]))
		rest = rest[n+int(l):]
	}
	return out, nil
}

// prefixEnd returns the smallest key greater than every key starting with p,
// or nil when there is none.
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
