package codec

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// Append-style JSON writers for the stored forms that intake encodes once
// per event and a rebuild once per session (MarshalEvent, MarshalFacts,
// AppendMeeting). They write exactly the bytes that
// encoding/json writes for the same values — HTML-safe string escaping,
// each invalid UTF-8 byte as U+FFFD, floats in its 'f'/'e' choice — which
// FuzzFactsJSONMatchesStdlib and TestFactsJSONMatchesStdlib check against
// encoding/json itself. They exist because reflection-driven encoding of
// the facts cost about a CPU-second per million events (BenchmarkRebuild).

const hexDigits = "0123456789abcdef"

// jsonSafe reports whether encoding/json writes the ASCII byte b as is
// inside a string (with HTML escaping on, its default).
func jsonSafe(b byte) bool {
	return b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' && b < utf8.RuneSelf
}

// appendJSONString appends s as encoding/json.Marshal writes a string.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if jsonSafe(b) {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default: // control characters and <, >, &
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, string(utf8.RuneError)...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 are escaped for JSONP, as encoding/json does.
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendJSONFloat appends f as encoding/json.Marshal writes a float64; NaN
// and infinities, which JSON cannot hold, are an error as there.
func appendJSONFloat(dst []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, fmt.Errorf("json: unsupported value: %s", strconv.FormatFloat(f, 'g', -1, 64))
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// e-09 to e-9, as encoding/json writes it.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, nil
}

// jsonObject writes the members of one JSON object, with the separators
// and omitempty rules that encoding/json applies to struct fields.
type jsonObject struct {
	buf   []byte
	first bool
	err   error // the first value that JSON cannot hold
}

func beginObject(dst []byte) jsonObject {
	return jsonObject{buf: append(dst, '{'), first: true}
}

func (o *jsonObject) end() []byte { return append(o.buf, '}') }

// key writes a member's name: a constant of this package that needs no
// escaping.
func (o *jsonObject) key(name string) {
	if !o.first {
		o.buf = append(o.buf, ',')
	}
	o.first = false
	o.buf = append(o.buf, '"')
	o.buf = append(o.buf, name...)
	o.buf = append(o.buf, '"', ':')
}

func (o *jsonObject) str(name, v string) {
	o.key(name)
	o.buf = appendJSONString(o.buf, v)
}

func (o *jsonObject) strOmitEmpty(name, v string) {
	if v != "" {
		o.str(name, v)
	}
}

func (o *jsonObject) int(name string, v int64) {
	o.key(name)
	o.buf = strconv.AppendInt(o.buf, v, 10)
}

func (o *jsonObject) intOmitEmpty(name string, v int64) {
	if v != 0 {
		o.int(name, v)
	}
}

func (o *jsonObject) boolOmitEmpty(name string, v bool) {
	if v {
		o.key(name)
		o.buf = append(o.buf, "true"...)
	}
}

func (o *jsonObject) float(name string, v float64) {
	o.key(name)
	b, err := appendJSONFloat(o.buf, v)
	if err != nil {
		o.fail(err)
		b = append(b, "null"...)
	}
	o.buf = b
}
