package intake_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/meetingd/meetingd/intake"
)

// checkMetadata asserts that Metadata.Marshal writes what json.Marshal writes.
func checkMetadata(t *testing.T, m intake.Metadata) {
	t.Helper()
	want, werr := json.Marshal(m)
	got, gerr := m.Marshal()
	if !bytes.Equal(got, want) || (werr == nil) != (gerr == nil) {
		t.Fatalf("marshal(%+v) = %s, %v; json.Marshal = %s, %v", m, got, gerr, want, werr)
	}
}

func TestMetadataMatchesStdlib(t *testing.T) {
	at := time.Date(2026, 11, 27, 6, 32, 30, 123456789, time.UTC)
	for _, m := range []intake.Metadata{
		{WebhookID: "wh-1", Region: "us", ReceivedAt: at, Source: "http"},
		{ReceivedAt: at, Source: "import"},
		{WebhookID: "a<b>&\"c\\", Region: "é\x00\u2028", ReceivedAt: at, Source: "http"},
		{WebhookID: "x", ReceivedAt: at.Truncate(time.Second), Source: ""},
		{Region: "eu", ReceivedAt: at.In(time.FixedZone("x", 3600+17)), Source: "http"},
		{ReceivedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Source: "http"},
		{ReceivedAt: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), Source: "http"},
		{},
	} {
		checkMetadata(t, m)
	}
}

// FuzzMetadataMatchesStdlib: the same for any strings and times.
func FuzzMetadataMatchesStdlib(f *testing.F) {
	f.Add("wh-1", "us", "http", int64(1764225150123456789), 0)
	f.Add("<&>", "\xff", "", int64(-62135596800000000), 3600)
	f.Fuzz(func(t *testing.T, webhook, region, source string, ns int64, offset int) {
		at := time.Unix(0, ns).In(time.FixedZone("z", offset%(24*3600)))
		checkMetadata(t, intake.Metadata{WebhookID: webhook, Region: region, ReceivedAt: at, Source: source})
	})
}

// TestMetadataRead: every writer's metadata reads back as one type, the
// jobs' metadata of before the shared type (recorded_at) included.
func TestMetadataRead(t *testing.T) {
	at := time.Date(2026, 11, 27, 6, 32, 30, 123456789, time.UTC)
	for _, tc := range []struct {
		name, stored string
		want         intake.Metadata
	}{
		{"http", `{"webhook_id":"wh-1","region":"us","received_at":"2026-11-27T06:32:30.123456789Z","source":"http"}`,
			intake.Metadata{WebhookID: "wh-1", Region: "us", ReceivedAt: at, Source: "http"}},
		{"import", `{"received_at":"2026-11-27T06:32:30.123456789Z","source":"import"}`,
			intake.Metadata{ReceivedAt: at, Source: "import"}},
		{"job", `{"received_at":"2026-11-27T06:32:30.123456789Z","source":"job:stale-closer"}`,
			intake.Metadata{ReceivedAt: at, Source: "job:stale-closer"}},
		{"job before the shared type", `{"source":"job:reconcile","recorded_at":"2026-11-27T06:32:30.123456789Z"}`,
			intake.Metadata{ReceivedAt: at, Source: "job:reconcile"}},
		{"received_at wins", `{"received_at":"2026-11-27T06:32:30.123456789Z","recorded_at":"2000-01-01T00:00:00Z","source":"x"}`,
			intake.Metadata{ReceivedAt: at, Source: "x"}},
		{"no time", `{"source":"http"}`, intake.Metadata{Source: "http"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got intake.Metadata
			if err := json.Unmarshal([]byte(tc.stored), &got); err != nil {
				t.Fatal(err)
			}
			if !sameMetadata(got, tc.want) {
				t.Errorf("read %s = %+v, want %+v", tc.stored, got, tc.want)
			}
		})
	}
	for _, bad := range []string{`{"received_at":"yesterday"}`, `{"recorded_at":1}`, `[]`, `{`} {
		var m intake.Metadata
		if err := json.Unmarshal([]byte(bad), &m); err == nil {
			t.Errorf("read %s = %+v, want an error", bad, m)
		}
	}
}

// TestMetadataWebhookBytes pins the stored bytes of the webhook metadata and
// that they read back as written.
func TestMetadataWebhookBytes(t *testing.T) {
	m := intake.Metadata{WebhookID: "wh-1", Region: "eu", ReceivedAt: time.Date(2026, 11, 27, 6, 32, 30, 5, time.UTC), Source: "http"}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"webhook_id":"wh-1","region":"eu","received_at":"2026-11-27T06:32:30.000000005Z","source":"http"}`
	if string(b) != want {
		t.Fatalf("stored %s, want %s", b, want)
	}
	var back intake.Metadata
	if err := json.Unmarshal(b, &back); err != nil || !sameMetadata(back, m) {
		t.Fatalf("read back %+v, %v; want %+v", back, err, m)
	}
}

func sameMetadata(a, b intake.Metadata) bool {
	return a.WebhookID == b.WebhookID && a.Region == b.Region && a.Source == b.Source && a.ReceivedAt.Equal(b.ReceivedAt)
}
