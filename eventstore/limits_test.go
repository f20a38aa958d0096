package eventstore_test

import (
	"strings"
	"testing"

	"github.com/meetingd/meetingd/eventstore"
)

func TestLimitsCheck(t *testing.T) {
	ev := eventstore.Event{Type: "t.v1", Data: make([]byte, 100), Metadata: make([]byte, 20)} // 100+20+2*4 = 128
	if n := eventstore.AppendSize(ev, ev); n != 256 {
		t.Fatalf("AppendSize = %d, want 256", n)
	}
	tests := []struct {
		name   string
		limits eventstore.Limits
		stream string
		events []eventstore.Event
		want   string // "" for no error, else a part of it
	}{
		{"no limits", eventstore.Limits{}, strings.Repeat("s", 10000), []eventstore.Event{ev}, ""},
		{"append at the limit", eventstore.Limits{MaxAppendBytes: 256}, "s", []eventstore.Event{ev, ev}, ""},
		{"append over the limit", eventstore.Limits{MaxAppendBytes: 255}, "s", []eventstore.Event{ev, ev}, "append of 256 bytes exceeds the limit of 255"},
		{"name at the limit", eventstore.Limits{MaxStreamNameBytes: 5}, "sssss", []eventstore.Event{ev}, ""},
		{"name over the limit", eventstore.Limits{MaxStreamNameBytes: 5}, "ssssss", []eventstore.Event{ev}, "stream name of 6 bytes exceeds the limit of 5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.limits.Check(tc.stream, tc.events)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Check: %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Check: %v, want an error with %q", err, tc.want)
			}
		})
	}
}
