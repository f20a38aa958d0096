package cometchat

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// CometChat's loose typing, read by one set of rules for the webhooks and
// the Calls REST API alike. A scalar arrives as parseObject (or
// encoding/json with UseNumber) yields it: nil for null or absent, string,
// json.Number or bool. Every helper returns a reason ("" when the value is
// accepted) that its decoder wraps with the field's path.

// maxUnixSeconds rejects millisecond timestamps (anything past year 5138).
const maxUnixSeconds = 1e11

// looseNumber reads a number sent as a JSON number or a numeric string:
// decimal notation only (strconv.ParseFloat alone would also take "0x1p30",
// "0x6_5258e24p0", "Inf" and "NaN"), finite. Null, "" and white space are
// absent (ok false, no reason).
func looseNumber(raw any) (f float64, ok bool, reason string) {
	var text string
	switch v := raw.(type) {
	case nil:
		return 0, false, ""
	case string:
		text = v
	case json.Number:
		text = v.String()
	default:
		return 0, false, "must be a number or a numeric string"
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return 0, false, ""
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || !decimal(text) || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, fmt.Sprintf("must be a number, got %q", text)
	}
	return f, true, ""
}

// decimal reports whether s is a decimal number: digits with an optional
// sign, fraction and exponent.
func decimal(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c == '.', c == 'e', c == 'E', c == '+', c == '-':
		default:
			return false
		}
	}
	return true
}

// unixSeconds checks that f is a Unix time in whole seconds: positive,
// below maxUnixSeconds (a larger value is milliseconds), no fraction.
func unixSeconds(f float64) (int64, string) {
	switch {
	case f <= 0:
		return 0, fmt.Sprintf("must be a positive Unix time in seconds, got %v", f)
	case f >= maxUnixSeconds:
		return 0, fmt.Sprintf("%v is not Unix seconds (milliseconds?)", f)
	case f != math.Trunc(f):
		return 0, fmt.Sprintf("must be whole Unix seconds, got %v", f)
	}
	return int64(f), ""
}

// looseBool reads a boolean sent as true/false, "true"/"false" (any case,
// surrounding white space ignored), "1"/"0", "yes"/"no" or 1/0; "" is
// false. Null is absent (ok false, no reason).
func looseBool(raw any) (b, ok bool, reason string) {
	var s string
	switch v := raw.(type) {
	case nil:
		return false, false, ""
	case bool:
		return v, true, ""
	case string:
		s = strings.ToLower(strings.TrimSpace(v))
	case json.Number:
		s = v.String()
	default:
		return false, false, fmt.Sprintf("must be a boolean, got %v", raw)
	}
	switch s {
	case "true", "1", "yes":
		return true, true, ""
	case "false", "0", "no", "":
		return false, true, ""
	}
	return false, false, fmt.Sprintf("must be a boolean, got %q", s)
}
