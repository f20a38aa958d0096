package cometchat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Errors of the Calls REST API. ErrDecode is wrapped by every decoding
// error: the answer was not a Calls API answer this package understands
// (among them a field the tolerant rules refuse). ErrNotFound is what a
// client returns for a session the API does not know (HTTP 404).
var (
	ErrDecode   = errors.New("cometchat: undecodable answer")
	ErrNotFound = errors.New("cometchat: call not found")
)

// Call is one call session as the Calls REST API reports it. Times are Unix
// seconds, 0 when absent.
type Call struct {
	SessionID string `json:"sessionId"`
	// Status is initiated, ongoing, ended, unanswered, rejected or canceled.
	Status string `json:"status"`
	// Mode is call, meet or presenter; Type is audio or video.
	Mode         string        `json:"mode,omitempty"`
	Type         string        `json:"type,omitempty"`
	InitiatedAt  int64         `json:"initiatedAt,omitempty"`
	StartedAt    int64         `json:"startedAt,omitempty"`
	EndedAt      int64         `json:"endedAt,omitempty"`
	Participants []Participant `json:"participants,omitempty"`
	Recordings   []Recording   `json:"recordings,omitempty"`
}

// Ended reports whether CometChat says the call is over and when.
func (c Call) Ended() (int64, bool) {
	return c.EndedAt, strings.EqualFold(c.Status, StatusEnded) && c.EndedAt > 0
}

// Call statuses the reconciliation acts on.
const (
	StatusOngoing = "ongoing"
	StatusEnded   = "ended"
)

// Participant is one participant entry of a call: one per device, so a user
// who joined from two devices appears twice.
type Participant struct {
	UID string `json:"uid"`
	// Name is the display name, when the API sends one.
	Name string `json:"name,omitempty"`
	// JoinedAt and LeftAt are 0 for a participant who never joined (state
	// "unanswered") and LeftAt is 0 while present.
	JoinedAt int64  `json:"joinedAt,omitempty"`
	LeftAt   int64  `json:"leftAt,omitempty"`
	IsJoined bool   `json:"isJoined"`
	State    string `json:"state,omitempty"`
	DeviceID string `json:"deviceId,omitempty"`
	// AudioMinutes and VideoMinutes are CometChat's own usage of this
	// entry (totalAudioMinutes, totalVideoMinutes: fractional minutes, 0
	// when absent); HasUsage says whether either was sent.
	AudioMinutes float64 `json:"totalAudioMinutes,omitempty"`
	VideoMinutes float64 `json:"totalVideoMinutes,omitempty"`
	HasUsage     bool    `json:"-"`
}

// Recording is a recording of the call.
type Recording struct {
	RID       string `json:"rid,omitempty"`
	URL       string `json:"recording_url"`
	StartTime int64  `json:"startTime,omitempty"`
	EndTime   int64  `json:"endTime,omitempty"`
	// Duration is in seconds, fractional.
	Duration float64 `json:"duration,omitempty"`
}

// Page is one page of a call list.
type Page struct {
	Calls []Call
	// CurrentPage and TotalPages come from meta.pagination (0 when absent).
	CurrentPage, TotalPages int
}

// DecodeCall decodes the answer of GET /calls/{sessionId}: {"data": call}.
func DecodeCall(body []byte) (Call, error) {
	var env struct {
		Data *wireCall `json:"data"`
	}
	if err := unmarshal(body, &env); err != nil {
		return Call{}, err
	}
	if env.Data == nil {
		return Call{}, fmt.Errorf("%w: data is missing", ErrDecode)
	}
	return env.Data.call("data")
}

// DecodePage decodes the answer of GET /calls: {"data": [call…], "meta":
// {"pagination": {…}}}.
func DecodePage(body []byte) (Page, error) {
	var env struct {
		Data *[]wireCall `json:"data"`
		Meta struct {
			Pagination struct {
				CurrentPage loose `json:"current_page"`
				TotalPages  loose `json:"total_pages"`
			} `json:"pagination"`
		} `json:"meta"`
	}
	if err := unmarshal(body, &env); err != nil {
		return Page{}, err
	}
	if env.Data == nil {
		return Page{}, fmt.Errorf("%w: data is missing", ErrDecode)
	}
	p := Page{Calls: make([]Call, 0, len(*env.Data))}
	for i, w := range *env.Data {
		c, err := w.call(fmt.Sprintf("data[%d]", i))
		if err != nil {
			return Page{}, err
		}
		p.Calls = append(p.Calls, c)
	}
	var errs []error
	p.CurrentPage = pageNumber("meta.pagination.current_page", env.Meta.Pagination.CurrentPage, &errs)
	p.TotalPages = pageNumber("meta.pagination.total_pages", env.Meta.Pagination.TotalPages, &errs)
	if err := errors.Join(errs...); err != nil {
		return Page{}, err
	}
	return p, nil
}

func unmarshal(body []byte, v any) error {
	if !utf8.Valid(body) {
		return fmt.Errorf("%w: not valid UTF-8", ErrDecode)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %v", ErrDecode, err)
	}
	return nil
}

// The wire types take their numbers and booleans as loose values, read by
// the same tolerant rules as the webhooks (tolerant.go).
type wireCall struct {
	SessionID    string            `json:"sessionId"`
	Status       string            `json:"status"`
	Mode         string            `json:"mode"`
	Type         string            `json:"type"`
	InitiatedAt  loose             `json:"initiatedAt"`
	StartedAt    loose             `json:"startedAt"`
	EndedAt      loose             `json:"endedAt"`
	Participants []wireParticipant `json:"participants"`
	Recordings   []wireRecording   `json:"recordings"`
}

type wireParticipant struct {
	UID      string `json:"uid"`
	Name     string `json:"name"`
	JoinedAt loose  `json:"joinedAt"`
	LeftAt   loose  `json:"leftAt"`
	IsJoined loose  `json:"isJoined"`
	State    string `json:"state"`
	DeviceID string `json:"deviceId"`
	Audio    loose  `json:"totalAudioMinutes"`
	Video    loose  `json:"totalVideoMinutes"`
}

type wireRecording struct {
	RID       string `json:"rid"`
	URL       string `json:"recording_url"`
	StartTime loose  `json:"startTime"`
	EndTime   loose  `json:"endTime"`
	Duration  loose  `json:"duration"`
}

// loose is a scalar as sent (nil when null or absent, string, json.Number
// or bool), read by the tolerant rules when its field is known.
type loose struct{ v any }

func (l *loose) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(&l.v)
}

// fieldError is a refused field of an answer.
func fieldError(field, reason string) error {
	return fmt.Errorf("%w: %s: %s", ErrDecode, field, reason)
}

// unixTime reads Unix seconds by the webhooks' rules; absent, "" and 0 are
// 0 (the API's "not yet").
func unixTime(field string, l loose, errs *[]error) int64 {
	f, ok, reason := looseNumber(l.v)
	if reason != "" {
		*errs = append(*errs, fieldError(field, reason))
		return 0
	}
	if !ok || f == 0 {
		return 0
	}
	sec, reason := unixSeconds(f)
	if reason != "" {
		*errs = append(*errs, fieldError(field, reason))
	}
	return sec
}

// maxMinutes bounds a usage figure: a year of minutes; more is not a call.
const maxMinutes = 366 * 24 * 60

// minutes reads a participant's usage in fractional minutes by the tolerant
// rules; absent and "" are (0, false); negative, non-finite or over
// maxMinutes is refused.
func minutes(field string, l loose, errs *[]error) (float64, bool) {
	f, ok, reason := looseNumber(l.v)
	switch {
	case reason != "":
	case !ok:
		return 0, false
	case math.IsNaN(f) || f < 0 || f > maxMinutes:
		reason = "must be between 0 and a year of minutes"
	}
	if reason != "" {
		*errs = append(*errs, fieldError(field, reason))
		return 0, false
	}
	return f, true
}

// pageNumber reads a whole, non-negative page number; absent is 0.
func pageNumber(field string, l loose, errs *[]error) int {
	f, _, reason := looseNumber(l.v)
	switch {
	case reason != "":
	case f < 0 || f > math.MaxInt32:
		reason = "out of range"
	case f != math.Trunc(f):
		reason = fmt.Sprintf("must be a whole number, got %v", f)
	}
	if reason != "" {
		*errs = append(*errs, fieldError(field, reason))
		return 0
	}
	return int(f)
}

func (w wireCall) call(path string) (Call, error) {
	if w.SessionID == "" {
		return Call{}, fmt.Errorf("%w: %s.sessionId is missing", ErrDecode, path)
	}
	c := Call{SessionID: w.SessionID, Status: w.Status, Mode: w.Mode, Type: w.Type}
	var errs []error
	tm := func(field string, v loose) int64 { return unixTime(path+"."+field, v, &errs) }
	c.InitiatedAt = tm("initiatedAt", w.InitiatedAt)
	c.StartedAt = tm("startedAt", w.StartedAt)
	c.EndedAt = tm("endedAt", w.EndedAt)
	for i, p := range w.Participants {
		at := fmt.Sprintf("participants[%d].", i)
		joined, _, reason := looseBool(p.IsJoined.v)
		if reason != "" {
			errs = append(errs, fieldError(path+"."+at+"isJoined", reason))
		}
		audio, hasAudio := minutes(path+"."+at+"totalAudioMinutes", p.Audio, &errs)
		video, hasVideo := minutes(path+"."+at+"totalVideoMinutes", p.Video, &errs)
		c.Participants = append(c.Participants, Participant{
			UID: p.UID, Name: p.Name, IsJoined: joined, State: p.State, DeviceID: p.DeviceID,
			JoinedAt: tm(at+"joinedAt", p.JoinedAt), LeftAt: tm(at+"leftAt", p.LeftAt),
			AudioMinutes: audio, VideoMinutes: video, HasUsage: hasAudio || hasVideo,
		})
	}
	for i, r := range w.Recordings {
		at := fmt.Sprintf("recordings[%d].", i)
		d, _, reason := looseNumber(r.Duration.v)
		if reason == "" && d < 0 {
			reason = "must not be negative"
		}
		if reason != "" {
			errs = append(errs, fieldError(path+"."+at+"duration", reason))
		}
		c.Recordings = append(c.Recordings, Recording{
			RID: r.RID, URL: r.URL, Duration: d,
			StartTime: tm(at+"startTime", r.StartTime), EndTime: tm(at+"endTime", r.EndTime),
		})
	}
	if err := errors.Join(errs...); err != nil {
		return Call{}, err
	}
	return c, nil
}
