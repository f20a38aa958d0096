package clickhouse

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/projections"
)

// table is one table the sink inserts into, with the columns it names.
type table struct {
	name    string
	columns []string
}

// The tables in the order the sink inserts them: session_versions last, so
// that a session's new version becomes its head only once every row of it is
// stored.
var (
	tMeetings = table{"meetings", []string{"app_id", "session_id", "version", "deleted", "kind", "status", "outcome",
		"started_at", "ended_at", "duration_seconds", "participant_count", "peak_concurrent", "total_attendance_seconds",
		"recording_count", "transcription_count", "last_event_at", "participants", "meeting", "attendance",
		"audio_seconds", "video_seconds", "billable_audio_minutes", "billable_video_minutes"}}
	tAttendance = table{"attendance", []string{"app_id", "participant", "meeting_started_at", "session_id", "version",
		"deleted", "name", "first_joined_at", "last_left_at", "attended_seconds", "attendance_ratio", "join_count",
		"audio_only", "platform", "sdk", "audio_seconds", "video_seconds"}}
	tIntervals  = table{"intervals", []string{"app_id", "session_id", "participant", "joined_at", "version", "deleted", "left_at"}}
	tRecordings = table{"recordings", []string{"app_id", "session_id", "kind", "url", "version", "deleted",
		"start_time", "end_time", "duration_seconds", "recording_date"}}
	tCalls = table{"calls", []string{"app_id", "session_id", "version", "deleted", "outcome", "initiator",
		"initiator_name", "receiver", "receiver_type", "media", "initiated_at"}}
	tHeads = table{"session_versions", []string{"app_id", "session_id", "seq", "committed", "version", "started_at",
		"meeting_starts", "attendance_participants", "attendance_starts", "interval_participants", "interval_joined_at",
		"recording_kinds", "recording_urls", "is_call"}}

	// rowTables are inserted between the intents and the commits.
	rowTables = []table{tMeetings, tAttendance, tIntervals, tRecordings, tCalls}
	tables    = append(append([]table{}, rowTables...), tHeads)
)

// Recording kinds of the recordings table.
const (
	kindRecording     = "recording"
	kindTranscription = "transcription"
)

// head is the newest session_versions row of a session.
type head struct {
	seq       uint64
	committed bool
	// version is the newest committed version.
	version   uint64
	startedAt time.Time
	keys      keySet
}

// keySet is the keys of a session's rows in every table.
type keySet struct {
	starts []time.Time // meetings: started_at
	att    []attKey    // attendance
	ivs    []ivKey     // intervals
	recs   []recKey    // recordings
	call   bool        // calls
	seen   map[any]bool
}

type attKey struct {
	participant string
	started     int64
}

type ivKey struct {
	participant string
	joined      int64
}

type recKey struct{ kind, url string }

// add records k (once); it reports whether k was new.
func (ks *keySet) add(k any) bool {
	if ks.seen == nil {
		ks.seen = map[any]bool{}
	}
	if ks.seen[k] {
		return false
	}
	ks.seen[k] = true
	switch k := k.(type) {
	case int64:
		ks.starts = append(ks.starts, time.Unix(k, 0).UTC())
	case attKey:
		ks.att = append(ks.att, k)
	case ivKey:
		ks.ivs = append(ks.ivs, k)
	case recKey:
		ks.recs = append(ks.recs, k)
	}
	return true
}

func (ks *keySet) has(k any) bool { return ks.seen[k] }

// within reports whether every key of ks is in other.
func (ks *keySet) within(other *keySet) bool {
	in := !ks.call || other.call
	ks.each(func(k any) { in = in && other.has(k) })
	return in
}

// each calls fn with every key of ks.
func (ks *keySet) each(fn func(k any)) {
	for _, s := range ks.starts {
		fn(s.Unix())
	}
	for _, k := range ks.att {
		fn(k)
	}
	for _, k := range ks.ivs {
		fn(k)
	}
	for _, k := range ks.recs {
		fn(k)
	}
}

// union returns the keys of a and b.
func union(a, b *keySet) *keySet {
	u := &keySet{call: a.call || b.call}
	a.each(func(k any) { u.add(k) })
	b.each(func(k any) { u.add(k) })
	return u
}

// headRow is ks as a session_versions row.
func headRow(app, session string, seq uint64, committed bool, version uint64, started time.Time, ks *keySet) []any {
	attP, attS := make([]string, len(ks.att)), make([]time.Time, len(ks.att))
	for i, k := range ks.att {
		attP[i], attS[i] = k.participant, time.Unix(k.started, 0).UTC()
	}
	ivP, ivJ := make([]string, len(ks.ivs)), make([]time.Time, len(ks.ivs))
	for i, k := range ks.ivs {
		ivP[i], ivJ[i] = k.participant, time.Unix(k.joined, 0).UTC()
	}
	recK, recU := make([]string, len(ks.recs)), make([]string, len(ks.recs))
	for i, k := range ks.recs {
		recK[i], recU[i] = k.kind, k.url
	}
	return []any{app, session, seq, b2u(committed), version, started, nonNilT(ks.starts), attP, attS, ivP, ivJ,
		recK, recU, b2u(ks.call)}
}

// scanKeys rebuilds a keySet from a session_versions row's arrays.
func scanKeys(starts []time.Time, attP []string, attS []time.Time, ivP []string, ivJ []time.Time, recK, recU []string, call bool) keySet {
	var ks keySet
	ks.call = call
	for _, t := range starts {
		ks.add(t.Unix())
	}
	for i := range min(len(attP), len(attS)) {
		ks.add(attKey{attP[i], attS[i].Unix()})
	}
	for i := range min(len(ivP), len(ivJ)) {
		ks.add(ivKey{ivP[i], ivJ[i].Unix()})
	}
	for i := range min(len(recK), len(recU)) {
		ks.add(recKey{recK[i], recU[i]})
	}
	return ks
}

// rowSet is the rows of one flush, per table.
type rowSet struct {
	rows map[string][][]any
	err  error
}

func newRowSet() *rowSet { return &rowSet{rows: make(map[string][][]any, len(tables))} }

func (rs *rowSet) add(t table, row ...any) {
	if len(row) != len(t.columns) {
		// A programming error (the tests catch it): every row fills each column.
		rs.err = fmt.Errorf("clickhouse: %s row has %d values for %d columns", t.name, len(row), len(t.columns))
		return
	}
	rs.rows[t.name] = append(rs.rows[t.name], row)
}

// count is the number of rows of every table.
func (rs *rowSet) count() int {
	n := 0
	for _, r := range rs.rows {
		n += len(r)
	}
	return n
}

// epoch is the DateTime that stands for an unknown time (a zero time.Time).
var epoch = time.Unix(0, 0).UTC()

// dt converts a time to what a DateTime column stores: whole seconds, the
// zero time (and anything before 1970) as the epoch.
func dt(t time.Time) time.Time {
	if t.IsZero() || t.Unix() < 0 {
		return epoch
	}
	return time.Unix(t.Unix(), 0).UTC()
}

// fromDT converts a DateTime back (the epoch is the zero time).
func fromDT(t time.Time) time.Time {
	if t.Unix() <= 0 {
		return time.Time{}
	}
	return t.UTC()
}

func dtPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := dt(*t)
	return &v
}

func boolPtr(b *bool) *uint8 {
	if b == nil {
		return nil
	}
	var v uint8
	if *b {
		v = 1
	}
	return &v
}

func nonNeg(n int64) uint64 {
	if n < 0 {
		return 0
	}
	return uint64(n)
}

// participantsDoc is the attendance column: the meeting's participant rows as
// the API serves them.
type participantsDoc struct {
	Participants []domain.Attendance `json:"p"`
	Unmatched    []domain.Attendance `json:"u,omitempty"`
}

// addSession appends to rs the rows of u at version v and tombstones
// (deleted = 1, version v) for the keys of base that v does not have, and
// returns the keys of v's rows.
func addSession(rs *rowSet, u projections.SessionUpdate, v uint64, base *keySet) (*keySet, error) {
	m := u.Meeting
	app, session := u.Key.AppID, u.Key.SessionID
	started := dt(m.StartedAt)
	ks := &keySet{}

	list := m
	list.Participants, list.UnmatchedParticipants = nil, nil
	meetingJSON, err := json.Marshal(list)
	if err != nil {
		return nil, fmt.Errorf("encode meeting %s/%s: %w", app, session, err)
	}
	peopleJSON, err := json.Marshal(participantsDoc{m.Participants, m.UnmatchedParticipants})
	if err != nil {
		return nil, fmt.Errorf("encode participants %s/%s: %w", app, session, err)
	}
	ids := make([]string, len(m.Participants))
	for i, p := range m.Participants {
		ids[i] = p.Participant
	}
	ks.add(started.Unix())
	audioMin, videoMin := billableMinutes(m.Participants)
	rs.add(tMeetings, app, session, v, uint8(0), string(m.Kind), string(m.Status), string(m.Outcome),
		started, dtPtr(m.EndedAt), nonNeg(m.DurationSeconds), uint32(m.ParticipantCount), uint32(m.PeakConcurrent),
		nonNeg(m.TotalAttendanceSeconds), uint32(len(m.Recordings)), uint32(len(m.Transcriptions)),
		dt(m.LastEventAt), ids, string(meetingJSON), string(peopleJSON),
		nonNeg(m.AudioSeconds), nonNeg(m.VideoSeconds), audioMin, videoMin)

	for _, p := range m.Participants {
		if !ks.add(attKey{p.Participant, started.Unix()}) {
			continue
		}
		rs.add(tAttendance, app, p.Participant, started, session, v, uint8(0), p.Name, dt(p.FirstJoinedAt),
			dtPtr(p.LastLeftAt), nonNeg(p.AttendedSeconds), p.AttendanceRatio, uint32(p.JoinCount),
			boolPtr(p.AudioOnly), p.Platform, p.SDK, nonNeg(p.AudioSeconds), nonNeg(p.VideoSeconds))
		for _, iv := range p.Intervals {
			j := dt(iv.JoinedAt)
			if ks.add(ivKey{p.Participant, j.Unix()}) {
				rs.add(tIntervals, app, session, p.Participant, j, v, uint8(0), dtPtr(iv.LeftAt))
			}
		}
	}
	addRec := func(kind, url string, start, end *time.Time, dur float64, date string) {
		if ks.add(recKey{kind, url}) {
			rs.add(tRecordings, app, session, kind, url, v, uint8(0), dtPtr(start), dtPtr(end), dur, date)
		}
	}
	for _, r := range m.Recordings {
		addRec(kindRecording, r.URL, r.StartedAt, nil, r.DurationSeconds, r.RecordingDate)
	}
	for _, tr := range m.Transcriptions {
		var dur float64
		if tr.StartedAt != nil && tr.EndedAt != nil && tr.EndedAt.After(*tr.StartedAt) {
			dur = tr.EndedAt.Sub(*tr.StartedAt).Seconds()
		}
		addRec(kindTranscription, tr.URL, tr.StartedAt, tr.EndedAt, dur, "")
	}
	if m.Kind == domain.KindCall {
		ks.call = true
		rs.add(tCalls, app, session, v, uint8(0), string(m.Outcome), m.Initiator, m.InitiatorName, m.Receiver,
			m.ReceiverType, m.Media, dtPtr(m.InitiatedAt))
	}

	if base == nil {
		return ks, nil
	}
	nilT := (*time.Time)(nil)
	base.each(func(k any) {
		if ks.has(k) {
			return
		}
		switch k := k.(type) {
		case int64:
			rs.add(tMeetings, app, session, v, uint8(1), "", "", "", time.Unix(k, 0).UTC(), nilT,
				uint64(0), uint32(0), uint32(0), uint64(0), uint32(0), uint32(0), epoch, []string{}, "", "",
				uint64(0), uint64(0), uint64(0), uint64(0))
		case attKey:
			rs.add(tAttendance, app, k.participant, time.Unix(k.started, 0).UTC(), session, v, uint8(1), "", epoch,
				nilT, uint64(0), float64(0), uint32(0), (*uint8)(nil), "", "", uint64(0), uint64(0))
		case ivKey:
			rs.add(tIntervals, app, session, k.participant, time.Unix(k.joined, 0).UTC(), v, uint8(1), nilT)
		case recKey:
			rs.add(tRecordings, app, session, k.kind, k.url, v, uint8(1), nilT, nilT, float64(0), "")
		}
	})
	if base.call && !ks.call {
		rs.add(tCalls, app, session, v, uint8(1), "", "", "", "", "", "", nilT)
	}
	return ks, nil
}

// billableMinutes sums the rows' billable minutes: each row's audio and
// video seconds rounded up to whole minutes (API.md, "Usage").
func billableMinutes(rows []domain.Attendance) (audio, video uint64) {
	for _, r := range rows {
		audio += ceilMinutes(r.AudioSeconds)
		video += ceilMinutes(r.VideoSeconds)
	}
	return audio, video
}

func ceilMinutes(seconds int64) uint64 {
	if seconds <= 0 {
		return 0
	}
	return uint64((seconds + 59) / 60)
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

func nonNilT(s []time.Time) []time.Time {
	if s == nil {
		return []time.Time{}
	}
	return s
}
