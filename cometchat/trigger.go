package cometchat

import "github.com/meetingd/meetingd/domain"

// CometChat's webhook trigger names, carried by the events as their opaque
// domain.Trigger (stored, and part of the dedupe key: never rename one).
const (
	TriggerMeetingStarted           domain.Trigger = "meeting_started"
	TriggerMeetingParticipantJoined domain.Trigger = "meeting_participant_joined"
	TriggerMeetingParticipantLeft   domain.Trigger = "meeting_participant_left"
	TriggerMeetingEnded             domain.Trigger = "meeting_ended"
	TriggerRecordingGenerated       domain.Trigger = "recording_generated"
	TriggerTranscriptionGenerated   domain.Trigger = "transcription_generated"
	TriggerCallInitiated            domain.Trigger = "call_initiated"
	TriggerCallStarted              domain.Trigger = "call_started"
	TriggerCallParticipantJoined    domain.Trigger = "call_participant_joined"
	TriggerCallParticipantLeft      domain.Trigger = "call_participant_left"
	TriggerCallEnded                domain.Trigger = "call_ended"
	TriggerCallBusy                 domain.Trigger = "call_busy"
	TriggerCallCancelled            domain.Trigger = "call_cancelled"
	TriggerCallRejected             domain.Trigger = "call_rejected"
	TriggerCallUnanswered           domain.Trigger = "call_unanswered"
)

// Triggers lists every trigger the decoder understands, in CometChat's
// documentation order (a constant table: never modified).
var Triggers = []domain.Trigger{
	TriggerMeetingStarted, TriggerMeetingParticipantJoined, TriggerMeetingParticipantLeft, TriggerMeetingEnded,
	TriggerRecordingGenerated, TriggerCallInitiated, TriggerCallStarted, TriggerCallParticipantJoined,
	TriggerCallParticipantLeft, TriggerCallEnded, TriggerCallBusy, TriggerCallCancelled, TriggerCallRejected,
	TriggerCallUnanswered, TriggerTranscriptionGenerated,
}

// ringAction returns the domain's ringing step of a ringing trigger, or "".
// CometChat's data.call.data.action spells the same steps.
func ringAction(t domain.Trigger) string {
	switch t {
	case TriggerCallInitiated:
		return domain.RingInitiated
	case TriggerCallBusy:
		return domain.RingBusy
	case TriggerCallCancelled:
		return domain.RingCancelled
	case TriggerCallRejected:
		return domain.RingRejected
	case TriggerCallUnanswered:
		return domain.RingUnanswered
	}
	return ""
}
