package notify_test

import (
	"testing"
	"time"

	"github.com/meetingd/meetingd/notify"
	"github.com/meetingd/meetingd/reports"
)

// TestDeleteSessions: retention removes a session's deliveries (delivered
// or pending) and state from the outbox, and only that app's session: the
// same session id in another app, and the app's other sessions, stay.
func TestDeleteSessions(t *testing.T) {
	h := newHarness(t, notify.Config{FinalAfter: time.Minute})
	rc := newReceiver(t, nil)
	subA := h.subscribe("app-a", rc.srv.URL+"/a")
	subB := h.subscribe("app-b", rc.srv.URL+"/b")
	h.endedMeeting("app-a", "s1")
	h.endedMeeting("app-a", "s2")
	h.endedMeeting("app-b", "s1")
	h.advance(2 * time.Minute)
	eventually(t, "three deliveries", func() bool {
		return len(h.deliveries(subA.ID, notify.StatusDelivered))+len(h.deliveries(subB.ID, notify.StatusDelivered)) == 3
	})
	sessions := func(sub string) []string {
		var out []string
		for _, d := range h.deliveries(sub, "") {
			out = append(out, d.SessionID)
		}
		return out
	}
	for round, want := range []int{1, 0} {
		n, err := h.store.DeleteSessions(t.Context(), []reports.SessionKey{{AppID: "app-a", SessionID: "s1"}, {AppID: "app-a", SessionID: "gone"}})
		if err != nil || n != want {
			t.Fatalf("round %d: deleted %d, %v; want %d", round, n, err, want)
		}
	}
	if got := sessions(subA.ID); len(got) != 1 || got[0] != "s2" {
		t.Errorf("app-a's deliveries after the deletion: %v, want [s2]", got)
	}
	if got := sessions(subB.ID); len(got) != 1 || got[0] != "s1" {
		t.Errorf("app-b's deliveries after the deletion: %v, want [s1]", got)
	}
	if err := h.store.Scrub(t.Context()); err != nil && err != notify.ErrBusy {
		t.Fatal(err)
	}
}
