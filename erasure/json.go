package erasure

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/meetingd/meetingd/domain"
)

// PseudonymiseJSON returns body (a stored copy of a /v1 answer, such as a
// notification's) with the subject replaced: in every object holding a
// string that is an identity of app whose pseudonym is pseudonym, that
// string and every "name" or "…_name" field become the pseudonym. A body
// whose "app_id" (at the top or under "data") names another app, or that
// is not JSON, is left alone. It reports whether the body changed.
func PseudonymiseJSON(body []byte, app, pseudonym string) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return body, false
	}
	if other := appOf(v); other != "" && other != app {
		return body, false
	}
	match := domain.PseudonymOf(app, pseudonym)
	if !rename(v, match, pseudonym) {
		return body, false
	}
	out, err := json.Marshal(v)
	if err != nil {
		return body, false
	}
	return out, true
}

// appOf returns the app_id of a body, at the top or under "data".
func appOf(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	if a, ok := m["app_id"].(string); ok {
		return a
	}
	if d, ok := m["data"].(map[string]any); ok {
		if a, ok := d["app_id"].(string); ok {
			return a
		}
	}
	return ""
}

// rename replaces the subject in v (see PseudonymiseJSON).
func rename(v any, match func(string) bool, pseudonym string) bool {
	changed := false
	switch x := v.(type) {
	case map[string]any:
		named := false
		for k, e := range x {
			if s, ok := e.(string); ok && s != pseudonym && match(s) {
				x[k], named = pseudonym, true
			}
		}
		if named {
			changed = true
			for k, e := range x {
				if _, ok := e.(string); ok && (k == "name" || strings.HasSuffix(k, "_name")) {
					x[k] = pseudonym
				}
			}
		}
		for _, e := range x {
			changed = rename(e, match, pseudonym) || changed
		}
	case []any:
		for i, e := range x {
			if s, ok := e.(string); ok && s != pseudonym && match(s) {
				x[i], changed = pseudonym, true
				continue
			}
			changed = rename(e, match, pseudonym) || changed
		}
	}
	return changed
}
