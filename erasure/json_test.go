package erasure_test

import (
	"strings"
	"testing"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/erasure"
)

func TestPseudonymiseJSON(t *testing.T) {
	p := domain.Pseudonym("app", "u-zelda")
	tests := []struct {
		name, body string
		changed    bool
		want       string // substring of the answer
		gone       string
	}{
		{"participant row", `{"type":"meeting.final","data":{"app_id":"app","participants":[{"participant":"u-zelda","name":"Zelda Q","attended_seconds":60},{"participant":"u-ann","name":"Ann"}]}}`,
			true, `{"attended_seconds":60,"name":"` + p + `","participant":"` + p + `"}`, "Zelda"},
		{"ringing", `{"data":{"app_id":"app","call":{"initiator":"u-zelda","initiator_name":"Zelda Q","receiver":"u-ann"}}}`,
			true, `"initiator_name":"` + p + `"`, "Zelda"},
		{"other app", `{"data":{"app_id":"app-2","participants":[{"participant":"u-zelda","name":"Zelda Q"}]}}`, false, "Zelda", ""},
		{"not named", `{"data":{"app_id":"app","participants":[{"participant":"u-ann","name":"Ann"}]}}`, false, "Ann", ""},
		{"numbers kept exact", `{"data":{"app_id":"app","n":12345678901234567890,"participants":[{"participant":"u-zelda"}]}}`, true, "12345678901234567890", "u-zelda"},
		{"not JSON", `nope u-zelda`, false, "u-zelda", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, changed := erasure.PseudonymiseJSON([]byte(tc.body), "app", p)
			if changed != tc.changed || !strings.Contains(string(out), tc.want) || (tc.gone != "" && strings.Contains(string(out), tc.gone)) {
				t.Fatalf("changed %v: %s", changed, out)
			}
		})
	}
}
