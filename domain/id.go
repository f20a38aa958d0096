package domain

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxIDLength bounds app and session ids, names and uids (bytes).
const MaxIDLength = 512

// IDRules says which rules an identifier follows (see CheckID).
type IDRules uint8

const (
	// NameRules are those of display names: at most MaxIDLength bytes of
	// valid UTF-8 without control characters.
	NameRules IDRules = iota
	// UIDRules are those of ids (occupant uids): NameRules and no Unicode
	// format character (category Cf: bidi overrides such as U+202E, zero-width
	// spaces), which would make an id display as another in logs, CSV and
	// dashboards.
	UIDRules
	// StreamIDRules are those of the ids that name streams (app, session and
	// call ids): UIDRules and no path separator (/, \, "." or "..").
	StreamIDRules
)

// CheckID returns why the non-empty s breaks rules, or "" when it follows
// them. The provider decoders and the HTTP parameters share it.
func CheckID(s string, rules IDRules) string {
	if len(s) > MaxIDLength {
		return fmt.Sprintf("longer than %d bytes", MaxIDLength)
	}
	for _, r := range s {
		switch {
		case unicode.IsControl(r) || r == utf8.RuneError:
			return "contains a control or invalid character"
		case rules >= UIDRules && unicode.Is(unicode.Cf, r):
			return fmt.Sprintf("contains the format character %U (bidirectional or invisible)", r)
		}
	}
	if rules >= StreamIDRules && (strings.ContainsAny(s, `/\`) || s == "." || s == "..") {
		return "contains a path separator"
	}
	return ""
}
