package domain_test

import (
	"strings"
	"testing"

	"github.com/meetingd/meetingd/domain"
)

// TestStreamNamesBounded builds the longest stream names the decoder's ids
// can give (every byte escaped) and checks them against MaxStreamNameBytes.
func TestStreamNamesBounded(t *testing.T) {
	worst := []struct {
		name string
		id   string
	}{
		{"512 percent signs", strings.Repeat("%", domain.MaxIDLength)},
		{"170 CJK characters", strings.Repeat("中", domain.MaxIDLength/3)},
		{"512 spaces", strings.Repeat(" ", domain.MaxIDLength)},
	}
	for _, w := range worst {
		t.Run(w.name, func(t *testing.T) {
			if reason := domain.CheckID(w.id, domain.StreamIDRules); reason != "" {
				t.Fatalf("the worst case is not a valid id: %s", reason)
			}
			if n := len(domain.StreamName(w.id, w.id)); n > domain.MaxStreamNameBytes {
				t.Errorf("StreamName of two such ids has %d bytes, over MaxStreamNameBytes %d", n, domain.MaxStreamNameBytes)
			}
			if n := len(domain.QuarantineStream(w.id)); n > domain.MaxStreamNameBytes {
				t.Errorf("QuarantineStream has %d bytes, over MaxStreamNameBytes %d", n, domain.MaxStreamNameBytes)
			}
		})
	}
}

func TestQuarantineStream(t *testing.T) {
	tests := []struct{ app, want string }{
		{"app-1", "quarantine-app-1"},
		{"a b", "quarantine-a%20b"},
		{"%unknown", "quarantine-%25unknown"},
		{"", domain.QuarantineUnknownApp},
		{"a/b", domain.QuarantineUnknownApp},
		{"a\u202eb", domain.QuarantineUnknownApp},
		{strings.Repeat("a", domain.MaxIDLength+1), domain.QuarantineUnknownApp},
	}
	for _, tc := range tests {
		if got := domain.QuarantineStream(tc.app); got != tc.want {
			t.Errorf("QuarantineStream(%q) = %q, want %q", tc.app, got, tc.want)
		}
	}
}
