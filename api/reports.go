package api

import (
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/meetingd/meetingd/billing"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/reports"
)

// StatusSource reports how far the read models lag behind the event log
// (projections.Runner). Safe for concurrent use; honours ctx.
type StatusSource interface {
	Status(ctx context.Context) (projections.Progress, error)
}

// queryTimeout bounds one report query.
const queryTimeout = 15 * time.Second

// Reports serves the /v1 report endpoints and /v1/status. It implements
// ReportRoutes.
type Reports struct {
	store  reports.Store
	status StatusSource
	prices billing.Prices
	zones  zones
}

// ReportOption configures the report endpoints.
type ReportOption func(*Reports)

// WithPrices sets the prices of the usage report's estimated_cost (default
// billing.Defaults()).
func WithPrices(p billing.Prices) ReportOption { return func(r *Reports) { r.prices = p } }

// NewReportRoutes returns the report endpoints over a report store and status.
func NewReportRoutes(store reports.Store, status StatusSource, opts ...ReportOption) (*Reports, error) {
	if store == nil || status == nil {
		return nil, errors.New("api: report routes need a reports.Store and a StatusSource")
	}
	r := &Reports{store: store, status: status, prices: billing.Defaults()}
	for _, o := range opts {
		o(r)
	}
	return r, nil
}

// Mount registers the endpoints on the authenticated /v1 group.
func (r *Reports) Mount(v1 fiber.Router) {
	v1.Get("/meetings", r.meetings)
	v1.Get("/meetings/:sessionId", r.meeting)
	v1.Get("/meetings/:sessionId/attendance", r.attendance)
	v1.Get("/participants/:participant/attendance", r.participant)
	v1.Get("/reports/durations", r.durations)
	v1.Get("/reports/usage", r.usage)
	v1.Get("/series/:seriesId/attendance", r.series)
	v1.Get("/status", r.progress)
}

// sessionKey reads the app scope (required) and the :sessionId parameter.
func sessionKey(c *fiber.Ctx) (reports.SessionKey, error) {
	app, err := appScope(c, true)
	if err != nil {
		return reports.SessionKey{}, err
	}
	session, err := parsePathID("sessionId", param(c, "sessionId"), true)
	if err != nil {
		return reports.SessionKey{}, err
	}
	return reports.SessionKey{AppID: app, SessionID: session}, nil
}

func (r *Reports) meeting(c *fiber.Ctx) error {
	key, err := sessionKey(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), queryTimeout)
	defer cancel()
	m, err := r.store.Meeting(ctx, key)
	if err != nil {
		return err
	}
	return c.JSON(meetingOut(m, true))
}

type attendanceAnswer struct {
	SessionID    string              `json:"session_id"`
	Participants []domain.Attendance `json:"participants"`
}

func (r *Reports) attendance(c *fiber.Ctx) error {
	key, err := sessionKey(c)
	if err != nil {
		return err
	}
	asCSV, err := wantsCSV(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), queryTimeout)
	defer cancel()
	m, err := r.store.Meeting(ctx, key)
	if err != nil {
		return err
	}
	rows := attendanceOut(m.Participants)
	if asCSV {
		return writeAttendanceCSV(c, rows)
	}
	return c.JSON(attendanceAnswer{SessionID: key.SessionID, Participants: rows})
}

// meetingSummary is a meeting of the list: without participants (the keys
// are left out, not emptied).
type meetingSummary struct {
	domain.Meeting
	Participants          []domain.Attendance `json:"participants,omitempty"`
	UnmatchedParticipants []domain.Attendance `json:"unmatched_participants,omitempty"`
}

type meetingsAnswer struct {
	Meetings   []meetingSummary `json:"meetings"`
	NextCursor *string          `json:"next_cursor"`
}

func (r *Reports) meetings(c *fiber.Ctx) error {
	app, err := appScope(c, true)
	if err != nil {
		return err
	}
	q := reports.MeetingQuery{AppID: app, Status: domain.Status(query(c, "status"))}
	if q.From, q.To, err = parseRange(query(c, "from"), query(c, "to"), false); err != nil {
		return err
	}
	if q.Participant, err = parseID("participant", query(c, "participant"), false, true); err != nil {
		return err
	}
	if q.Limit, err = parseLimit(query(c, "limit")); err != nil {
		return err
	}
	if q.Cursor, err = parseCursor(query(c, "cursor")); err != nil {
		return err
	}
	if q, err = q.Normalize(); err != nil {
		return err // a *reports.QueryError naming status: a 400 (statusOf)
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), queryTimeout)
	defer cancel()
	page, err := r.store.Meetings(ctx, q)
	if err != nil {
		return err
	}
	out := meetingsAnswer{Meetings: make([]meetingSummary, 0, len(page.Meetings))}
	for _, m := range page.Meetings {
		out.Meetings = append(out.Meetings, meetingSummary{Meeting: meetingOut(m, false)})
	}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	return c.JSON(out)
}

func (r *Reports) participant(c *fiber.Ctx) error {
	app, err := appScope(c, true)
	if err != nil {
		return err
	}
	q := reports.ParticipantQuery{AppID: app}
	if q.Participant, err = parsePathID("participant", param(c, "participant"), false); err != nil {
		return err
	}
	if q.From, q.To, err = parseRange(query(c, "from"), query(c, "to"), false); err != nil {
		return err
	}
	if q.Limit, err = parseLimit(query(c, "limit")); err != nil {
		return err
	}
	if q.Cursor, err = parseCursor(query(c, "cursor")); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), queryTimeout)
	defer cancel()
	rep, err := r.store.ParticipantAttendance(ctx, q)
	if err != nil {
		return err
	}
	rep.Participant = q.Participant
	ms := make([]reports.ParticipantMeeting, len(rep.Meetings))
	for i, m := range rep.Meetings {
		m.StartedAt = m.StartedAt.UTC()
		ms[i] = m
	}
	rep.Meetings = ms
	out := participantAnswer{ParticipantReport: rep}
	if rep.NextCursor != "" {
		out.NextCursor = &rep.NextCursor
	}
	return c.JSON(out)
}

// participantAnswer is a page of a participant's report; next_cursor is
// null on the last page.
type participantAnswer struct {
	reports.ParticipantReport
	NextCursor *string `json:"next_cursor"`
}

type durationsAnswer struct {
	Buckets []reports.DurationBucket `json:"buckets"`
}

func (r *Reports) durations(c *fiber.Ctx) error {
	app, err := appScope(c, true)
	if err != nil {
		return err
	}
	loc, err := r.zones.parse(query(c, "tz"))
	if err != nil {
		return err
	}
	q, err := durationQuery(app, query(c, "from"), query(c, "to"), query(c, "bucket"), loc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), queryTimeout)
	defer cancel()
	buckets, err := r.store.Durations(ctx, q)
	if err != nil {
		return err
	}
	out := durationsAnswer{Buckets: make([]reports.DurationBucket, len(buckets))}
	for i, b := range buckets {
		b.Start = b.Start.In(q.Location) // RFC 3339 with the zone's offset, Z for UTC
		out.Buckets[i] = b
	}
	return c.JSON(out)
}

type statusAnswer struct {
	// Events counts the session events in the log.
	Events uint64 `json:"events"`
	// ProjectedPosition is the log position the read models have folded.
	ProjectedPosition eventstore.Position `json:"projected_position"`
	// ProjectedEvents counts the session events folded.
	ProjectedEvents uint64 `json:"projected_events"`
	// LagEvents is Events − ProjectedEvents (0 when caught up).
	LagEvents uint64 `json:"lag_events"`
}

// progress serves /v1/status. The log is shared by every app, so the answer
// is too; the app scope is still checked, like on every /v1 endpoint.
func (r *Reports) progress(c *fiber.Ctx) error {
	if _, err := appScope(c, false); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), queryTimeout)
	defer cancel()
	p, err := r.status.Status(ctx)
	if err != nil {
		return err
	}
	return c.JSON(statusAnswer{
		Events: p.Events, ProjectedPosition: p.Projected.Position,
		ProjectedEvents: p.Projected.Events, LagEvents: p.Lag,
	})
}

// meetingOut copies m for an answer: times in UTC, absent lists as [] (not
// null), participants sorted like attendance rows, or left out.
func meetingOut(m domain.Meeting, withParticipants bool) domain.Meeting {
	m.StartedAt = m.StartedAt.UTC()
	m.EndedAt = utcPtr(m.EndedAt)
	m.InitiatedAt = utcPtr(m.InitiatedAt)
	m.LastEventAt = m.LastEventAt.UTC()
	m.ScheduledStart, m.ScheduledEnd = utcPtr(m.ScheduledStart), utcPtr(m.ScheduledEnd)
	recs := make([]domain.Recording, len(m.Recordings))
	for i, r := range m.Recordings {
		r.StartedAt = utcPtr(r.StartedAt)
		recs[i] = r
	}
	m.Recordings = recs
	trs := make([]domain.Transcription, len(m.Transcriptions))
	for i, t := range m.Transcriptions {
		t.StartedAt, t.EndedAt = utcPtr(t.StartedAt), utcPtr(t.EndedAt)
		trs[i] = t
	}
	m.Transcriptions = trs
	if withParticipants {
		m.Participants = attendanceOut(m.Participants)
		if m.UnmatchedParticipants != nil {
			m.UnmatchedParticipants = attendanceOut(m.UnmatchedParticipants)
		}
	} else {
		m.Participants, m.UnmatchedParticipants = nil, nil
	}
	return m
}

// attendanceOut copies rows in UTC, sorted by first_joined_at, then participant.
func attendanceOut(rows []domain.Attendance) []domain.Attendance {
	out := make([]domain.Attendance, len(rows))
	for i, a := range rows {
		a.FirstJoinedAt = a.FirstJoinedAt.UTC()
		a.LastLeftAt = utcPtr(a.LastLeftAt)
		ivs := make([]domain.Interval, len(a.Intervals))
		for j, iv := range a.Intervals {
			ivs[j] = domain.Interval{JoinedAt: iv.JoinedAt.UTC(), LeftAt: utcPtr(iv.LeftAt)}
		}
		a.Intervals = ivs
		out[i] = a
	}
	slices.SortStableFunc(out, func(a, b domain.Attendance) int {
		if az, bz := a.FirstJoinedAt.IsZero(), b.FirstJoinedAt.IsZero(); az != bz {
			return cmp.Compare(b2i(az), b2i(bz)) // absent roster rows (never joined) last
		}
		if c := a.FirstJoinedAt.Compare(b.FirstJoinedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.Participant, b.Participant)
	})
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

const mimeCSV = "text/csv"

// csvHeader is the header line of the attendance CSV.
var csvHeader = []string{
	"participant", "name", "first_joined_at", "last_left_at", "attended_seconds",
	"attendance_ratio", "join_count", "intervals", "audio_only", "platform", "sdk",
	"audio_seconds", "video_seconds",
}

// writeAttendanceCSV writes rows as CSV (encoding/csv: comma-separated, fields
// quoted when needed, lines end in \n), one line per participant after the
// header. Times are RFC 3339 UTC; an absent time or flag is an empty field;
// intervals are "joined_at/left_at" (ISO 8601 interval notation) joined by
// ";", an open interval ending in "/". Text that a spreadsheet would take for
// a formula (starting with = + - @, tab or carriage return) is prefixed with '.
func writeAttendanceCSV(c *fiber.Ctx, rows []domain.Attendance) error {
	c.Set(fiber.HeaderContentType, mimeCSV+"; charset=utf-8")
	w := csv.NewWriter(c)
	if err := w.Write(csvHeader); err != nil {
		return err
	}
	for _, a := range rows {
		ivs := make([]string, len(a.Intervals))
		for i, iv := range a.Intervals {
			ivs[i] = csvTime(&iv.JoinedAt) + "/" + csvTime(iv.LeftAt)
		}
		audio := ""
		if a.AudioOnly != nil {
			audio = strconv.FormatBool(*a.AudioOnly)
		}
		rec := []string{
			csvText(a.Participant), csvText(a.Name), csvTime(&a.FirstJoinedAt), csvTime(a.LastLeftAt),
			strconv.FormatInt(a.AttendedSeconds, 10), strconv.FormatFloat(a.AttendanceRatio, 'f', -1, 64),
			strconv.Itoa(a.JoinCount), strings.Join(ivs, ";"), audio, csvText(a.Platform), csvText(a.SDK),
			strconv.FormatInt(a.AudioSeconds, 10), strconv.FormatInt(a.VideoSeconds, 10),
		}
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}

func csvTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
