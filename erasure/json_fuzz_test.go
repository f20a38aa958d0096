package erasure_test

import (
	"encoding/json"
	"testing"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/erasure"
)

// FuzzPseudonymiseJSON: any body is handled without panic; a changed body
// is valid JSON, and pseudonymising it again changes nothing.
func FuzzPseudonymiseJSON(f *testing.F) {
	f.Add([]byte(`{"data":{"app_id":"app","participants":[{"participant":"u-zelda","name":"Z"}]}}`))
	f.Add([]byte(`["u-zelda",{"initiator":"u-zelda","initiator_name":"Z"}]`))
	f.Add([]byte(`{"app_id":"other","x":"u-zelda"}`))
	f.Add([]byte(`nope`))
	p := domain.Pseudonym("app", "u-zelda")
	f.Fuzz(func(t *testing.T, body []byte) {
		out, changed := erasure.PseudonymiseJSON(body, "app", p)
		if !changed {
			if string(out) != string(body) {
				t.Fatal("an unchanged body was altered")
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON: %s", out)
		}
		if again, changed := erasure.PseudonymiseJSON(out, "app", p); changed {
			t.Fatalf("not idempotent: %s → %s", out, again)
		}
	})
}
