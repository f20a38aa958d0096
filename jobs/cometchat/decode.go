package cometchat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrDecode is wrapped by every decoding error: the answer was not a Calls
// API answer this client understands.
var ErrDecode = errors.New("cometchat: undecodable answer")

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
				CurrentPage flexInt `json:"current_page"`
				TotalPages  flexInt `json:"total_pages"`
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
	cur, tot := env.Meta.Pagination.CurrentPage, env.Meta.Pagination.TotalPages
	if cur < 0 || tot < 0 || cur > math.MaxInt32 || tot > math.MaxInt32 {
		return Page{}, fmt.Errorf("%w: meta.pagination out of range", ErrDecode)
	}
	p.CurrentPage, p.TotalPages = int(cur), int(tot)
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

// The wire types take numbers as JSON numbers or numeric strings, and
// booleans as JSON booleans or "true"/"false", like the webhook decoder.
type wireCall struct {
	SessionID    string            `json:"sessionId"`
	Status       string            `json:"status"`
	Mode         string            `json:"mode"`
	Type         string            `json:"type"`
	InitiatedAt  flexInt           `json:"initiatedAt"`
	StartedAt    flexInt           `json:"startedAt"`
	EndedAt      flexInt           `json:"endedAt"`
	Participants []wireParticipant `json:"participants"`
	Recordings   []wireRecording   `json:"recordings"`
}

type wireParticipant struct {
	UID      string   `json:"uid"`
	Name     string   `json:"name"`
	JoinedAt flexInt  `json:"joinedAt"`
	LeftAt   flexInt  `json:"leftAt"`
	IsJoined flexBool `json:"isJoined"`
	State    string   `json:"state"`
	DeviceID string   `json:"deviceId"`
}

type wireRecording struct {
	RID       string    `json:"rid"`
	URL       string    `json:"recording_url"`
	StartTime flexInt   `json:"startTime"`
	EndTime   flexInt   `json:"endTime"`
	Duration  flexFloat `json:"duration"`
}

// maxUnixSeconds rejects millisecond timestamps (anything past year 5138),
// like the webhook decoder.
const maxUnixSeconds = 1e11

func checkTime(field string, v flexInt) (int64, error) {
	if v < 0 || v > maxUnixSeconds {
		return 0, fmt.Errorf("%w: %s: %d is not a Unix time in seconds", ErrDecode, field, int64(v))
	}
	return int64(v), nil
}

func (w wireCall) call(path string) (Call, error) {
	if w.SessionID == "" {
		return Call{}, fmt.Errorf("%w: %s.sessionId is missing", ErrDecode, path)
	}
	c := Call{SessionID: w.SessionID, Status: w.Status, Mode: w.Mode, Type: w.Type}
	var errs []error
	tm := func(field string, v flexInt) int64 {
		t, err := checkTime(path+"."+field, v)
		errs = append(errs, err)
		return t
	}
	c.InitiatedAt = tm("initiatedAt", w.InitiatedAt)
	c.StartedAt = tm("startedAt", w.StartedAt)
	c.EndedAt = tm("endedAt", w.EndedAt)
	for i, p := range w.Participants {
		at := fmt.Sprintf("participants[%d].", i)
		c.Participants = append(c.Participants, Participant{
			UID: p.UID, Name: p.Name, IsJoined: bool(p.IsJoined), State: p.State, DeviceID: p.DeviceID,
			JoinedAt: tm(at+"joinedAt", p.JoinedAt), LeftAt: tm(at+"leftAt", p.LeftAt),
		})
	}
	for i, r := range w.Recordings {
		at := fmt.Sprintf("recordings[%d].", i)
		if r.Duration < 0 || math.IsNaN(float64(r.Duration)) || math.IsInf(float64(r.Duration), 0) {
			errs = append(errs, fmt.Errorf("%w: %s.%sduration: negative or not finite", ErrDecode, path, at))
		}
		c.Recordings = append(c.Recordings, Recording{
			RID: r.RID, URL: r.URL, Duration: float64(r.Duration),
			StartTime: tm(at+"startTime", r.StartTime), EndTime: tm(at+"endTime", r.EndTime),
		})
	}
	if err := errors.Join(errs...); err != nil {
		return Call{}, err
	}
	return c, nil
}

// flexInt is an integer sent as a JSON number (a fraction is truncated) or
// a numeric string; null and "" are 0.
type flexInt int64

func (v *flexInt) UnmarshalJSON(b []byte) error {
	n, err := flexNumber(b)
	if err != nil {
		return err
	}
	if n >= math.MaxInt64 || n <= math.MinInt64 {
		return fmt.Errorf("number %s out of range", b)
	}
	*v = flexInt(n)
	return nil
}

// flexFloat is a number sent as a JSON number or a numeric string.
type flexFloat float64

func (v *flexFloat) UnmarshalJSON(b []byte) error {
	n, err := flexNumber(b)
	*v = flexFloat(n)
	return err
}

func flexNumber(b []byte) (float64, error) {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return 0, nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return 0, err
		}
		if s = strings.TrimSpace(s); s == "" {
			return 0, nil
		}
		b = []byte(s)
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("not a number: %.40q", b)
	}
	return f, nil
}

// flexBool is a boolean sent as a JSON boolean, "true"/"false", or 0/1.
type flexBool bool

func (v *flexBool) UnmarshalJSON(b []byte) error {
	switch strings.ToLower(strings.Trim(string(bytes.TrimSpace(b)), `"`)) {
	case "true", "1":
		*v = true
	case "false", "0", "", "null":
		*v = false
	default:
		return fmt.Errorf("not a boolean: %.40q", b)
	}
	return nil
}
