package clickhouse_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/meetingd/meetingd/clickhouse"
)

// execConn records the statements of Exec and fails the one numbered
// failAt (from 0), as a process killed there would leave it.
type execConn struct {
	clickhouse.Conn // nil: only Exec is used
	stmts           []string
	failAt          int
}

func (c *execConn) Exec(_ context.Context, q string, _ ...any) error {
	if len(c.stmts) == c.failAt {
		return errors.New("killed")
	}
	c.stmts = append(c.stmts, q)
	return nil
}

// TestResetEmptiesHeadsFirst: whatever statement a Reset is cut off at, the
// session heads are already gone, so that no later flush skips a session
// whose rows were truncated.
func TestResetEmptiesHeadsFirst(t *testing.T) {
	all := &execConn{failAt: -1}
	s, err := clickhouse.NewSink(clickhouse.SinkConfig{}, all, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Reset(t.Context()); err != nil || len(all.stmts) < 3 {
		t.Fatalf("Reset ran %q: %v", all.stmts, err)
	}
	for failAt := 1; failAt < len(all.stmts); failAt++ {
		c := &execConn{failAt: failAt}
		s, err := clickhouse.NewSink(clickhouse.SinkConfig{}, c, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = s.Reset(t.Context())
		if len(c.stmts) == 0 || c.stmts[0] != "TRUNCATE TABLE session_versions" {
			t.Fatalf("cut off at statement %d: ran %q; want session_versions truncated first", failAt, c.stmts)
		}
		if err == nil {
			t.Fatalf("cut off at statement %d: Reset succeeded", failAt)
		}
		for _, q := range c.stmts[1:] {
			if strings.Contains(q, "session_versions") {
				t.Errorf("session_versions truncated twice: %q", c.stmts)
			}
		}
	}
}
