package intake

import (
	"encoding/json"
	"time"
)

// marshal encodes m as encoding/json does (Metadata's field tags), writing
// the usual values directly: the webhook id and region as plain printable
// ASCII, the time within years 0–9999. Anything else goes to json.Marshal,
// so that the stored bytes never depend on which path wrote them
// (TestMetadataMatchesStdlib, FuzzMetadataMatchesStdlib).
func (m Metadata) marshal() ([]byte, error) {
	if !plainJSON(m.WebhookID) || !plainJSON(m.Region) || !plainJSON(m.Source) ||
		m.ReceivedAt.Year() < 0 || m.ReceivedAt.Year() > 9999 {
		return json.Marshal(m)
	}
	b := make([]byte, 0, 48+len(m.WebhookID)+len(m.Region)+len(time.RFC3339Nano)+len(m.Source))
	b = append(b, '{')
	if m.WebhookID != "" {
		b = append(b, `"webhook_id":"`...)
		b = append(b, m.WebhookID...)
		b = append(b, `",`...)
	}
	if m.Region != "" {
		b = append(b, `"region":"`...)
		b = append(b, m.Region...)
		b = append(b, `",`...)
	}
	b = append(b, `"received_at":"`...)
	b = m.ReceivedAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","source":"`...)
	b = append(b, m.Source...)
	return append(b, `"}`...), nil
}

// plainJSON reports whether encoding/json writes s between quotes as is:
// printable ASCII other than the quote, the backslash and the characters it
// escapes for HTML (<, >, &).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}
