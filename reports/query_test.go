package reports_test

import (
	"errors"
	"testing"
	"time"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/reports"
)

// checkQueryErr fails unless err is a *reports.QueryError for param that
// wraps ErrInvalidQuery (param "": err is nil).
func checkQueryErr(t *testing.T, name string, err error, param string) {
	t.Helper()
	if param == "" {
		if err != nil {
			t.Errorf("%s: %v, want no error", name, err)
		}
		return
	}
	var qe *reports.QueryError
	if !errors.As(err, &qe) || !errors.Is(err, reports.ErrInvalidQuery) || qe.Param != param {
		t.Errorf("%s: %v, want a *QueryError for %q wrapping ErrInvalidQuery", name, err, param)
	}
}

func TestMeetingQueryNormalize(t *testing.T) {
	for _, tc := range []struct {
		name      string
		in        reports.MeetingQuery
		limit     int
		status    domain.Status
		wantParam string
	}{
		{"defaults", reports.MeetingQuery{AppID: "a"}, reports.DefaultLimit, "", ""},
		{"negative limit", reports.MeetingQuery{AppID: "a", Limit: -1}, reports.DefaultLimit, "", ""},
		{"limit kept", reports.MeetingQuery{AppID: "a", Limit: 7}, 7, "", ""},
		{"max limit kept", reports.MeetingQuery{AppID: "a", Limit: reports.MaxLimit}, reports.MaxLimit, "", ""},
		{"limit clamped", reports.MeetingQuery{AppID: "a", Limit: 5000}, reports.MaxLimit, "", ""},
		{"live", reports.MeetingQuery{AppID: "a", Status: "live"}, reports.DefaultLimit, domain.StatusLive, ""},
		{"ended", reports.MeetingQuery{AppID: "a", Status: "ended"}, reports.DefaultLimit, domain.StatusEnded, ""},
		{"abandoned", reports.MeetingQuery{AppID: "a", Status: "abandoned"}, reports.DefaultLimit, domain.StatusAbandoned, ""},
		{"unknown status", reports.MeetingQuery{AppID: "a", Status: "closed"}, 0, "", "status"},
		{"status in capitals", reports.MeetingQuery{AppID: "a", Status: "Live"}, 0, "", "status"},
		{"no app", reports.MeetingQuery{Status: "closed"}, 0, "", "app"},
	} {
		got, err := tc.in.Normalize()
		checkQueryErr(t, tc.name, err, tc.wantParam)
		if err != nil {
			continue
		}
		if got.Limit != tc.limit || got.Status != tc.status {
			t.Errorf("%s: limit %d, status %q; want %d, %q", tc.name, got.Limit, got.Status, tc.limit, tc.status)
		}
		if again, err := got.Normalize(); err != nil || again != got {
			t.Errorf("%s: Normalize is not idempotent: %+v, %v", tc.name, again, err)
		}
	}
}

func TestParticipantQueryNormalize(t *testing.T) {
	for _, tc := range []struct {
		name      string
		in        reports.ParticipantQuery
		limit     int
		wantParam string
	}{
		{"defaults", reports.ParticipantQuery{AppID: "a", Participant: "u"}, reports.DefaultLimit, ""},
		{"limit kept", reports.ParticipantQuery{AppID: "a", Limit: 1}, 1, ""},
		{"limit clamped", reports.ParticipantQuery{AppID: "a", Limit: reports.MaxLimit + 1}, reports.MaxLimit, ""},
		{"no app", reports.ParticipantQuery{Participant: "u"}, 0, "app"},
	} {
		got, err := tc.in.Normalize()
		checkQueryErr(t, tc.name, err, tc.wantParam)
		if err == nil && got.Limit != tc.limit {
			t.Errorf("%s: limit %d, want %d", tc.name, got.Limit, tc.limit)
		}
	}
}

func TestDurationQueryNormalize(t *testing.T) {
	for _, tc := range []struct {
		name      string
		in        reports.DurationQuery
		wantParam string
	}{
		{"hour", reports.DurationQuery{AppID: "a", Bucket: "hour"}, ""},
		{"day", reports.DurationQuery{AppID: "a", Bucket: "day"}, ""},
		{"week", reports.DurationQuery{AppID: "a", Bucket: "week"}, ""},
		{"no bucket", reports.DurationQuery{AppID: "a"}, "bucket"},
		{"month", reports.DurationQuery{AppID: "a", Bucket: "month"}, ""},
		{"fortnight", reports.DurationQuery{AppID: "a", Bucket: "fortnight"}, "bucket"},
		{"Day", reports.DurationQuery{AppID: "a", Bucket: "Day"}, "bucket"},
		{"no app", reports.DurationQuery{Bucket: reports.Day}, "app"},
	} {
		got, err := tc.in.Normalize()
		checkQueryErr(t, tc.name, err, tc.wantParam)
		if err == nil && got.Bucket != tc.in.Bucket {
			t.Errorf("%s: bucket %q", tc.name, got.Bucket)
		}
		if err == nil && got.Location != time.UTC {
			t.Errorf("%s: a nil Location normalises to %v, want UTC", tc.name, got.Location)
		}
	}
}

func TestOpenQueryNormalize(t *testing.T) {
	for _, tc := range []struct {
		name      string
		in        reports.OpenQuery
		limit     int
		wantParam string
	}{
		{"live", reports.OpenQuery{Status: domain.StatusLive}, reports.DefaultLimit, ""},
		{"abandoned, clamped", reports.OpenQuery{Status: domain.StatusAbandoned, Limit: 1 << 20}, reports.MaxLimit, ""},
		{"ended", reports.OpenQuery{Status: domain.StatusEnded}, 0, "status"},
		{"any", reports.OpenQuery{}, 0, "status"},
	} {
		got, err := tc.in.Normalize()
		checkQueryErr(t, tc.name, err, tc.wantParam)
		if err == nil && got.Limit != tc.limit {
			t.Errorf("%s: limit %d, want %d", tc.name, got.Limit, tc.limit)
		}
	}
}

func TestSessionKeyValidate(t *testing.T) {
	checkQueryErr(t, "no app", reports.SessionKey{SessionID: "s"}.Validate(), "app")
	checkQueryErr(t, "app and session", reports.SessionKey{AppID: "a", SessionID: "s"}.Validate(), "")
}
