package codec

import (
	jsonv1 "encoding/json"
	"encoding/json/jsontext"
	json "encoding/json/v2"
)

// The stored forms are read and written with encoding/json/v2 alone (in
// Go 1.27, encoding/json is a thin layer over the same engine). v2's
// defaults differ from what the log and the read models hold, which
// encoding/json (v1) wrote; these options restore exactly that, and the
// differential tests compare against encoding/json itself.

// writeOptions write v1's bytes: a nil slice or map as null, <, >, & and
// U+2028/U+2029 escaped, an invalid UTF-8 byte as U+FFFD, map keys sorted,
// omitempty as v1 defines it (false, 0 and nil pointers too), and v1's
// error texts.
var writeOptions = json.JoinOptions(
	json.FormatNilSliceAsNull(true),
	json.FormatNilMapAsNull(true),
	jsontext.EscapeForHTML(true),
	jsontext.EscapeForJS(true),
	jsontext.AllowInvalidUTF8(true),
	json.Deterministic(true),
	jsonv1.OmitEmptyWithLegacySemantics(true),
	jsonv1.ReportErrorsWithLegacySemantics(true),
)

// readOptions read as v1 did: duplicate names (the last wins), invalid
// UTF-8 (as U+FFFD), names matched without regard to case, arrays of any
// length (the facts' [joined_at, left_at] pairs), and v1's error texts.
var readOptions = json.JoinOptions(
	jsontext.AllowDuplicateNames(true),
	jsontext.AllowInvalidUTF8(true),
	json.MatchCaseInsensitiveNames(true),
	jsonv1.MatchCaseSensitiveDelimiter(true),
	jsonv1.UnmarshalArrayFromAnyLength(true),
	jsonv1.MergeWithLegacySemantics(true),
	jsonv1.ReportErrorsWithLegacySemantics(true),
)

// marshal returns v's stored form.
func marshal(v any) ([]byte, error) { return json.Marshal(v, writeOptions) }

// unmarshal reads a stored form into v.
func unmarshal(data []byte, v any) error { return json.Unmarshal(data, v, readOptions) }
