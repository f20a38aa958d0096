package reports_test

import (
	"errors"
	"testing"

	"github.com/meetingd/meetingd/reports"
)

// FuzzParseCursor feeds the page-cursor decoder (clients send cursors back
// in ?cursor=) arbitrary strings: it never panics, rejects with
// ErrBadCursor whatever it did not make, and a cursor it accepts is the one
// that Cursor.String gives for the decoded value.
func FuzzParseCursor(f *testing.F) {
	f.Add(reports.Cursor{StartedUnix: 1700000000, SessionID: "s-1"}.String())
	f.Add(reports.Cursor{StartedUnix: -1, SessionID: ""}.String())
	f.Add(reports.Cursor{SessionID: "a/b\x00\xff"}.String())
	f.Add("")
	f.Add("opaque-next")
	f.Add("AQAAAABlU_EAcy0xAAAAAA")
	f.Add("====")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := reports.ParseCursor(s)
		if err != nil {
			if !errors.Is(err, reports.ErrBadCursor) {
				t.Fatalf("ParseCursor(%q): %v is not ErrBadCursor", s, err)
			}
			return
		}
		if c.String() != s {
			t.Fatalf("ParseCursor(%q) = %+v, whose cursor is %q", s, c, c.String())
		}
	})
}
