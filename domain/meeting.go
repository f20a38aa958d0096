package domain

import "time"

// Status is a meeting's lifecycle state in the reports.
type Status string

const (
	// StatusLive: no end is known yet.
	StatusLive Status = "live"
	// StatusEnded: the provider said the session ended (a SessionEnded,
	// or a SessionReconciled with an end), or a ringing call ended unanswered.
	StatusEnded Status = "ended"
	// StatusAbandoned: meetingd gave up waiting for the end (SessionAbandoned).
	StatusAbandoned Status = "abandoned"
	// StatusScheduled: a plan is known and no provider event yet
	// (started_at is unknown: the zero time, null in answers).
	StatusScheduled Status = "scheduled"
)

// Outcome is how a ringing call went.
type Outcome string

const (
	OutcomeInitiated  Outcome = "initiated"
	OutcomeAnswered   Outcome = "answered"
	OutcomeUnanswered Outcome = "unanswered"
	OutcomeRejected   Outcome = "rejected"
	OutcomeBusy       Outcome = "busy"
	OutcomeCancelled  Outcome = "cancelled"
)

// Meeting is the read model of one session, derived from its Facts (see
// Facts.Meeting for every rule). Its JSON is the body of
// GET /v1/meetings/{sessionId}; times are RFC 3339 UTC, durations whole
// seconds unless named otherwise.
type Meeting struct {
	AppID     string    `json:"app_id"`
	SessionID string    `json:"session_id"`
	Kind      Kind      `json:"kind"`
	Status    Status    `json:"status"`
	StartedAt time.Time `json:"started_at"`
	// EndedAt is nil while live.
	EndedAt *time.Time `json:"ended_at"`
	// DurationSeconds is EndedAt − StartedAt; while live, LastEventAt − StartedAt.
	DurationSeconds        int64 `json:"duration_seconds"`
	ParticipantCount       int   `json:"participant_count"`
	PeakConcurrent         int   `json:"peak_concurrent"`
	TotalAttendanceSeconds int64 `json:"total_attendance_seconds"`
	// AudioSeconds and VideoSeconds are the sums of the rows' (see
	// Attendance): together TotalAttendanceSeconds.
	AudioSeconds int64 `json:"audio_seconds"`
	VideoSeconds int64 `json:"video_seconds"`

	// The ringing flow, for Kind "call" only, when the events carried it.
	Outcome       Outcome `json:"outcome,omitempty"`
	Initiator     string  `json:"initiator,omitempty"`
	InitiatorName string  `json:"initiator_name,omitempty"`
	Receiver      string  `json:"receiver,omitempty"`
	ReceiverType  string  `json:"receiver_type,omitempty"`
	Media         string  `json:"media,omitempty"`
	// InitiatedAt is when the call was placed (the earliest ringing event).
	InitiatedAt *time.Time `json:"initiated_at,omitempty"`

	Recordings     []Recording     `json:"recordings"`
	Transcriptions []Transcription `json:"transcriptions"`
	Participants   []Attendance    `json:"participants"`
	// UnmatchedParticipants are participants CometChat's REST API reported
	// that the reconciliation could not match to a webhook identity. They are
	// shown for review and count in none of the totals above.
	UnmatchedParticipants []Attendance `json:"unmatched_participants,omitempty"`
	// ProviderUsage is what CometChat's Calls REST API counted, when the
	// reconciliation fetched it, and its difference from the figures above.
	ProviderUsage *ProviderUsage `json:"provider_usage,omitempty"`

	// LastEventAt is the newest CometChat timestamp the session's events carry
	// (not when meetingd received them). The stale-meeting job compares it with
	// MEETINGD_STALE_AFTER and copies it into SessionAbandoned.LastEventAt.
	LastEventAt time.Time `json:"last_event_at"`

	// The plan's facts (plan.go, verdict.go): all null or 0 without a plan.
	ScheduledStart *time.Time `json:"scheduled_start"`
	ScheduledEnd   *time.Time `json:"scheduled_end"`
	SeriesID       *string    `json:"series_id"`
	RosterCount    int        `json:"roster_count"`
	// AbsentCount counts the roster members who never joined (rows with
	// verdict "absent"; not in ParticipantCount).
	AbsentCount int `json:"absent_count"`
}

// Attendance is one participant's row of a meeting's attendance report.
type Attendance struct {
	// Participant is the identity: the occupant's uid when present, else its name.
	Participant   string    `json:"participant"`
	Name          string    `json:"name"`
	FirstJoinedAt time.Time `json:"first_joined_at"`
	// LastLeftAt is nil while the participant is still present in a live meeting.
	LastLeftAt      *time.Time `json:"last_left_at"`
	AttendedSeconds int64      `json:"attended_seconds"`
	// AttendanceRatio is AttendedSeconds / the meeting's DurationSeconds,
	// rounded half up to 4 decimals; 0 when the duration is 0.
	AttendanceRatio float64    `json:"attendance_ratio"`
	JoinCount       int        `json:"join_count"`
	Intervals       []Interval `json:"intervals"`
	// VideoSeconds is the length of the union of the participant's video
	// intervals, AudioSeconds that of their audio intervals less the seconds
	// their video intervals also cover, both clipped like AttendedSeconds:
	// AudioSeconds + VideoSeconds = AttendedSeconds.
	AudioSeconds int64 `json:"audio_seconds"`
	VideoSeconds int64 `json:"video_seconds"`
	// AudioOnly, Platform and SDK are present when CometChat sent them.
	AudioOnly *bool  `json:"audio_only,omitempty"`
	Platform  string `json:"platform,omitempty"`
	SDK       string `json:"sdk,omitempty"`

	// OnRoster is whether the plan's roster names the participant.
	OnRoster bool `json:"on_roster"`
	// PlanAttendance is the row's measure against the plan; nil (its
	// fields absent) without a plan.
	*PlanAttendance
}

// PlanAttendance is an attendance row measured against the session's plan
// (API.md "Attendance plans, rosters and series"; verdict.go).
type PlanAttendance struct {
	ScheduledAttendedSeconds int64   `json:"scheduled_attended_seconds"`
	ScheduledAttendanceRatio float64 `json:"scheduled_attendance_ratio"`
	LateSeconds              int64   `json:"late_seconds"`
	LeftEarlySeconds         int64   `json:"left_early_seconds"`
	Late                     bool    `json:"late"`
	LeftEarly                bool    `json:"left_early"`
	Verdict                  string  `json:"verdict"`
}

// ProviderUsage compares CometChat's per-participant totalAudioMinutes and
// totalVideoMinutes (the latest fetched of each participant) with meetingd's
// own audio_seconds and video_seconds of the same participants. It never
// changes meetingd's figures.
type ProviderUsage struct {
	// Participants is how many participants the provider's figures cover.
	Participants int `json:"participants"`
	// AudioSeconds and VideoSeconds are the provider's minutes × 60, each
	// participant's rounded to the nearest second, summed.
	AudioSeconds int64 `json:"audio_seconds"`
	VideoSeconds int64 `json:"video_seconds"`
	// AudioDifferenceSeconds is meetingd's audio_seconds of those
	// participants minus AudioSeconds (positive: meetingd counted more);
	// VideoDifferenceSeconds the same for video.
	AudioDifferenceSeconds int64 `json:"audio_difference_seconds"`
	VideoDifferenceSeconds int64 `json:"video_difference_seconds"`
}

// Interval is one presence of a participant, as CometChat reported it (not
// clipped to the meeting).
type Interval struct {
	JoinedAt time.Time `json:"joined_at"`
	// LeftAt is nil while open; once the meeting has ended or been abandoned
	// an open interval shows the meeting's end.
	LeftAt *time.Time `json:"left_at"`
}

// Recording is a recording linked to the session.
type Recording struct {
	URL string `json:"recording_url"`
	// StartedAt is nil when CometChat did not send startTime.
	StartedAt       *time.Time `json:"started_at"`
	DurationSeconds float64    `json:"duration_seconds"`
	// RecordingDate is CometChat's recordingDate, verbatim ("" when not sent).
	RecordingDate string `json:"recording_date"`
}

// Transcription is a transcript linked to the session.
type Transcription struct {
	URL       string     `json:"transcript_url"`
	StartedAt *time.Time `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at"`
}
