package domain

// Kind tells a meeting (a session of people meeting) from a call (a session
// that began by ringing someone, and the ringing itself).
type Kind string

const (
	KindMeeting Kind = "meeting"
	KindCall    Kind = "call"
)

// Trigger is the provider's own name for the notification an event was
// decoded from (for CometChat, its webhook trigger: see package cometchat).
// The domain never interprets it: it is stored with the event and is part of
// the event's dedupe key, so that two notifications the provider tells apart
// are never merged. meetingd's own events carry none.
type Trigger string

// Stable, versioned event type names. They are part of the stored log: never
// rename one; add a .v2 beside it instead.
const (
	TypeSessionStarted         = "session.started.v1"
	TypeParticipantJoined      = "session.participant_joined.v1"
	TypeParticipantLeft        = "session.participant_left.v1"
	TypeSessionEnded           = "session.ended.v1"
	TypeRecordingGenerated     = "session.recording_generated.v1"
	TypeTranscriptionGenerated = "session.transcription_generated.v1"
	TypeCallRinging            = "call.ringing.v1"
	// TypeSessionAbandoned is appended by meetingd itself (the stale-meeting
	// job) for a session whose end never arrived.
	TypeSessionAbandoned = "session.abandoned.v1"
	// TypeSessionReconciled is appended by meetingd itself with what
	// CometChat's Calls REST API knew that the webhooks did not tell.
	TypeSessionReconciled = "session.reconciled.v1"
)

// Event is one fact about a session, as stored in the log.
type Event struct {
	AppID     string `json:"app_id"`
	SessionID string `json:"session_id"`
	// Kind is empty when the provider does not say (recordings, transcriptions).
	Kind Kind `json:"kind,omitempty"`
	// Trigger is the provider's name of the notification (opaque, see Trigger).
	Trigger Trigger `json:"trigger"`
	// Payload is one of the payload types of this package.
	Payload Payload `json:"-"`
}

// Payload is the type-specific part of an Event.
type Payload interface {
	// EventType returns the stable, versioned type name.
	EventType() string
}

// Occupant is a participant's presence as the provider reports it.
type Occupant struct {
	// UID is the provider's user id; often absent.
	UID  string `json:"uid,omitempty"`
	Name string `json:"name"`
	// JoinedAt and LeftAt are Unix seconds; LeftAt is 0 while the interval is open.
	JoinedAt int64 `json:"joined_at"`
	LeftAt   int64 `json:"left_at,omitempty"`
	// AudioOnly is whether the provider said audio-only, when it said.
	AudioOnly *bool `json:"audio_only,omitempty"`
}

// Identity is the participant key of the reports: the uid when present, else the name.
func (o Occupant) Identity() string {
	if o.UID != "" {
		return o.UID
	}
	return o.Name
}

// ClientInfo is what the provider told of a participant's client that
// reports show.
type ClientInfo struct {
	Platform    string `json:"platform,omitempty"`
	SDK         string `json:"sdk,omitempty"`
	CallVersion string `json:"call_version,omitempty"`
	Mode        string `json:"mode,omitempty"`
	AudioOnly   *bool  `json:"audio_only,omitempty"`
}

// SessionStarted: the session began.
type SessionStarted struct {
	CreatedAt int64 `json:"created_at"`
}

// ParticipantJoined: a participant joined (an open interval).
type ParticipantJoined struct {
	Occupant Occupant    `json:"occupant"`
	Client   *ClientInfo `json:"client,omitempty"`
}

// ParticipantLeft: a participant left (a closed interval).
type ParticipantLeft struct {
	Occupant Occupant `json:"occupant"`
}

// SessionEnded: the session ended, with who was in it when the
// provider says.
type SessionEnded struct {
	CreatedAt    int64      `json:"created_at,omitempty"`
	DestroyedAt  int64      `json:"destroyed_at"`
	AllOccupants []Occupant `json:"all_occupants,omitempty"`
}

// RecordingGenerated links a recording to the session.
type RecordingGenerated struct {
	URL string `json:"recording_url"`
	// StartTime is Unix seconds.
	StartTime int64 `json:"start_time"`
	// Duration is in seconds, fractional.
	Duration      float64 `json:"duration"`
	RecordingDate string  `json:"recording_date,omitempty"`
}

// TranscriptionGenerated links a transcript to the session.
type TranscriptionGenerated struct {
	TID            string `json:"tid,omitempty"`
	URL            string `json:"transcript_url"`
	StartTime      int64  `json:"start_time"`
	EndTime        int64  `json:"end_time,omitempty"`
	TranscriptDate string `json:"transcript_date,omitempty"`
}

// The steps of the ringing flow (CallRinging.Action). The fold reads a
// call's outcome from them; a provider decoder maps its own names to them.
const (
	RingInitiated  = "initiated"
	RingBusy       = "busy"
	RingCancelled  = "cancelled"
	RingRejected   = "rejected"
	RingUnanswered = "unanswered"
)

// CallRinging is one step of the ringing flow, before anyone answers or
// after nobody did.
type CallRinging struct {
	// Action is the step: RingInitiated, RingBusy, RingCancelled,
	// RingRejected or RingUnanswered.
	Action         string `json:"action"`
	CallID         string `json:"call_id"`
	ConversationID string `json:"conversation_id,omitempty"`
	Sender         string `json:"sender,omitempty"`
	SenderName     string `json:"sender_name,omitempty"`
	Receiver       string `json:"receiver,omitempty"`
	ReceiverType   string `json:"receiver_type,omitempty"`
	// Media is "audio" or "video".
	Media     string `json:"media,omitempty"`
	SentAt    int64  `json:"sent_at"`
	UpdatedAt int64  `json:"updated_at,omitempty"`
	// InitiatedAt is entities.on.entity.initiatedAt, when sent.
	InitiatedAt int64 `json:"initiated_at,omitempty"`
}

// SessionAbandoned is meetingd's own verdict that a session's end will not
// arrive. A later SessionEnded supersedes it.
type SessionAbandoned struct {
	// LastEventAt is the newest CometChat timestamp the session had (Unix seconds).
	LastEventAt int64 `json:"last_event_at"`
	// DecidedAt is when meetingd decided (Unix seconds).
	DecidedAt int64 `json:"decided_at"`
}

// SessionReconciled carries what CometChat's Calls REST API reported for the
// session that the webhooks had not told.
type SessionReconciled struct {
	// FetchedAt is when the API answered (Unix seconds).
	FetchedAt int64 `json:"fetched_at"`
	// StartedAt and EndedAt are 0 when unknown.
	StartedAt int64 `json:"started_at,omitempty"`
	EndedAt   int64 `json:"ended_at,omitempty"`
	// Intervals are participants' closed or open intervals, identities matched
	// to the webhooks' (see the reconciliation job).
	Intervals []Occupant `json:"intervals,omitempty"`
	// Unmatched are participants the API reported that could not be matched to
	// a webhook identity without guessing; reported, never merged.
	Unmatched  []Occupant           `json:"unmatched,omitempty"`
	Recordings []RecordingGenerated `json:"recordings,omitempty"`
	// Usage is CometChat's own per-participant usage (totalAudioMinutes,
	// totalVideoMinutes), for the participants matched to a webhook
	// identity: provider facts, compared with meetingd's figures, never
	// merged into them.
	Usage []ParticipantUsage `json:"usage,omitempty"`
}

// ParticipantUsage is the audio and video minutes the provider counted for
// one participant (the sum over its devices), in fractional minutes.
type ParticipantUsage struct {
	Participant  string  `json:"participant"`
	AudioMinutes float64 `json:"audio_minutes"`
	VideoMinutes float64 `json:"video_minutes"`
}

func (SessionStarted) EventType() string         { return TypeSessionStarted }
func (ParticipantJoined) EventType() string      { return TypeParticipantJoined }
func (ParticipantLeft) EventType() string        { return TypeParticipantLeft }
func (SessionEnded) EventType() string           { return TypeSessionEnded }
func (RecordingGenerated) EventType() string     { return TypeRecordingGenerated }
func (TranscriptionGenerated) EventType() string { return TypeTranscriptionGenerated }
func (CallRinging) EventType() string            { return TypeCallRinging }
func (SessionAbandoned) EventType() string       { return TypeSessionAbandoned }
func (SessionReconciled) EventType() string      { return TypeSessionReconciled }

// Type returns the event's stable type name.
func (e Event) Type() string { return e.Payload.EventType() }
