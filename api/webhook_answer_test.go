package api

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/uuid"
)

// TestAcceptedAnswerMatchesJSON: the directly written 200 body is the JSON
// of webhookAnswer, byte for byte.
func TestAcceptedAnswerMatchesJSON(t *testing.T) {
	ids := []uuid.UUID{{}, uuid.Max, uuid.MustParse("5dad427e-6910-5216-bb42-2d19efbd6941")}
	for range 50 {
		ids = append(ids, uuid.New())
	}
	for _, id := range ids {
		for _, dup := range []bool{false, true} {
			want, err := json.Marshal(webhookAnswer{Status: "accepted", EventID: id.String(), Duplicate: &dup})
			if err != nil {
				t.Fatal(err)
			}
			if got := acceptedAnswer(id, dup); !bytes.Equal(got, want) {
				t.Errorf("acceptedAnswer(%s, %v) = %s, want %s", id, dup, got, want)
			}
		}
	}
}
