package intake

import (
	"encoding/json"
	"fmt"
	"time"
)

// Metadata is stored with every event meetingd appends to a session's
// stream, whoever writes it: the webhook intake (HTTP and import) and the
// jobs (stale closer, reconciliation). Write it with Marshal, read it with
// json.Unmarshal.
type Metadata struct {
	// WebhookID and Region are the delivering webhook's (empty, and left
	// out, for the jobs' events).
	WebhookID string `json:"webhook_id,omitempty"`
	Region    string `json:"region,omitempty"`
	// ReceivedAt is when the writer received the webhook, or made the event.
	ReceivedAt time.Time `json:"received_at"`
	// Source names the writer: "http", "import", or the job prefixed by
	// "job:" ("job:stale-closer", "job:reconcile").
	Source string `json:"source"`
}

// UnmarshalJSON reads Metadata as Marshal writes it, and the metadata the
// jobs wrote before they shared this type ({"source":…,"recorded_at":…}):
// recorded_at is read as ReceivedAt when received_at is absent.
func (m *Metadata) UnmarshalJSON(b []byte) error {
	var v struct {
		WebhookID  string     `json:"webhook_id"`
		Region     string     `json:"region"`
		ReceivedAt *time.Time `json:"received_at"`
		RecordedAt *time.Time `json:"recorded_at"`
		Source     string     `json:"source"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("event metadata: %w", err)
	}
	*m = Metadata{WebhookID: v.WebhookID, Region: v.Region, Source: v.Source}
	switch {
	case v.ReceivedAt != nil:
		m.ReceivedAt = *v.ReceivedAt
	case v.RecordedAt != nil:
		m.ReceivedAt = *v.RecordedAt
	}
	return nil
}

// Marshal encodes m as encoding/json does (Metadata's field tags), writing
// the usual values directly: the webhook id and region as plain printable
// ASCII, the time within years 0–9999. Anything else goes to json.Marshal,
// so that the stored bytes never depend on which path wrote them
// (TestMetadataMatchesStdlib, FuzzMetadataMatchesStdlib).
func (m Metadata) Marshal() ([]byte, error) {
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
