package plans

import (
	"errors"
	"fmt"

	"strconv"
	"strings"
	"time"

	"encoding/json/jsontext"
	json "encoding/json/v2"

	"github.com/meetingd/meetingd/domain"
)

// Body is a plan as PUT /v1/meetings/{id}/plan takes it and GET gives it
// back (API.md): times in RFC 3339, thresholds optional (their defaults
// apply when absent).
type Body struct {
	ScheduledStart     string               `json:"scheduled_start"`
	ScheduledEnd       string               `json:"scheduled_end"`
	SeriesID           *string              `json:"series_id,omitempty"`
	Roster             []domain.RosterEntry `json:"roster"`
	LateAfterSeconds   *int64               `json:"late_after_seconds,omitempty"`
	EarlyLeaveSeconds  *int64               `json:"early_leave_seconds,omitempty"`
	MinAttendanceRatio *float64             `json:"min_attendance_ratio,omitempty"`
}

// strict refuses what a lenient decoder would let pass silently: unknown
// members (a typo in a threshold's name), duplicated names, invalid UTF-8,
// trailing data (encoding/json/v2's defaults, and RejectUnknownMembers).
var strict = json.RejectUnknownMembers(true)

// Decode reads a plan body strictly and returns the plan it states, with
// the defaults applied and every field validated; a *domain.PlanError names
// the first field that is wrong ("body" when it is not a JSON object).
func Decode(data []byte) (domain.PlanSet, error) {
	var b Body
	if err := json.Unmarshal(data, &b, strict); err != nil {
		return domain.PlanSet{}, decodeError(err)
	}
	return b.Plan()
}

// Plan returns the plan that b states, defaults applied, validated.
func (b Body) Plan() (domain.PlanSet, error) {
	p := domain.PlanSet{
		LateAfterSeconds: domain.DefaultLateAfterSeconds, EarlyLeaveSeconds: domain.DefaultEarlyLeaveSeconds,
		MinAttendanceRatio: domain.DefaultMinAttendanceRatio, Roster: b.Roster,
	}
	var err error
	if p.ScheduledStart, err = parseTime("scheduled_start", b.ScheduledStart); err != nil {
		return p, err
	}
	if p.ScheduledEnd, err = parseTime("scheduled_end", b.ScheduledEnd); err != nil {
		return p, err
	}
	if b.SeriesID != nil {
		p.SeriesID = *b.SeriesID
	}
	if b.LateAfterSeconds != nil {
		p.LateAfterSeconds = *b.LateAfterSeconds
	}
	if b.EarlyLeaveSeconds != nil {
		p.EarlyLeaveSeconds = *b.EarlyLeaveSeconds
	}
	if b.MinAttendanceRatio != nil {
		p.MinAttendanceRatio = *b.MinAttendanceRatio
	}
	return p, p.Validate()
}

// BodyOf returns the body that states p (every threshold spelled out).
func BodyOf(p domain.PlanSet) Body {
	b := Body{
		ScheduledStart:   time.Unix(p.ScheduledStart, 0).UTC().Format(time.RFC3339),
		ScheduledEnd:     time.Unix(p.ScheduledEnd, 0).UTC().Format(time.RFC3339),
		Roster:           p.Roster,
		LateAfterSeconds: &p.LateAfterSeconds, EarlyLeaveSeconds: &p.EarlyLeaveSeconds,
		MinAttendanceRatio: &p.MinAttendanceRatio,
	}
	if b.Roster == nil {
		b.Roster = []domain.RosterEntry{}
	}
	if p.SeriesID != "" {
		b.SeriesID = &p.SeriesID
	}
	return b
}

func parseTime(field, v string) (int64, error) {
	if v == "" {
		return 0, &domain.PlanError{Field: field, Reason: "required (RFC 3339, e.g. 2026-09-01T09:00:00Z)"}
	}
	t, err := time.Parse(time.RFC3339, v)
	switch {
	case err != nil:
		return 0, &domain.PlanError{Field: field, Reason: "not an RFC 3339 time (e.g. 2026-09-01T09:00:00Z)"}
	case t.Nanosecond() != 0:
		return 0, &domain.PlanError{Field: field, Reason: "must be a whole second"}
	case t.Unix() <= 0 || t.Year() > 9999:
		return 0, &domain.PlanError{Field: field, Reason: "out of range"}
	}
	return t.Unix(), nil
}

// decodeError names the field of a decoding error.
func decodeError(err error) error {
	var se *json.SemanticError
	var syn *jsontext.SyntacticError
	switch {
	case errors.As(err, &se):
		field := fieldOf(string(se.JSONPointer))
		switch {
		case errors.Is(se.Err, json.ErrUnknownName):
			return &domain.PlanError{Field: field, Reason: "unknown field (see the plan's fields in API.md)"}
		case se.JSONKind != 0:
			return &domain.PlanError{Field: field, Reason: fmt.Sprintf("wrong type (%s)", kindName(se.JSONKind, field))}
		}
		return &domain.PlanError{Field: field, Reason: "invalid value"}
	case errors.As(err, &syn):
		field := fieldOf(string(syn.JSONPointer))
		if errors.Is(syn.Err, jsontext.ErrDuplicateName) {
			return &domain.PlanError{Field: field, Reason: "given twice"}
		}
		return &domain.PlanError{Field: "body", Reason: "not valid JSON"}
	}
	return &domain.PlanError{Field: "body", Reason: "not a JSON object"}
}

// kindName says what the field should have been.
func kindName(k jsontext.Kind, field string) string {
	switch {
	case strings.HasSuffix(field, "_seconds"):
		return "must be a whole number of seconds"
	case field == "min_attendance_ratio":
		return "must be a number from 0 to 1"
	case field == "roster":
		return "must be an array of {participant, name}"
	}
	return "got " + k.String()
}

// fieldOf turns a JSON Pointer (/roster/3/participant) into the name the
// errors use (roster[3].participant); the empty pointer is "body".
func fieldOf(ptr string) string {
	if ptr == "" || ptr == "/" {
		return "body"
	}
	var sb strings.Builder
	for i, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		if _, err := strconv.Atoi(tok); err == nil && i > 0 {
			sb.WriteString("[" + tok + "]")
			continue
		}
		if i > 0 {
			sb.WriteByte('.')
		}
		sb.WriteString(printable(tok))
	}
	return sb.String()
}

// printable keeps a client's field name short and free of control
// characters in the error message.
func printable(s string) string {
	const max = 64
	out := []rune{}
	for _, r := range s {
		if len(out) == max {
			return string(out) + "…"
		}
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			r = '?'
		}
		out = append(out, r)
	}
	return string(out)
}
