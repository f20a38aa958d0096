package intake

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// checkMetadata asserts that Metadata.marshal writes what json.Marshal writes.
func checkMetadata(t *testing.T, m Metadata) {
	t.Helper()
	want, werr := json.Marshal(m)
	got, gerr := m.marshal()
	if !bytes.Equal(got, want) || (werr == nil) != (gerr == nil) {
		t.Fatalf("marshal(%+v) = %s, %v; json.Marshal = %s, %v", m, got, gerr, want, werr)
	}
}

func TestMetadataMatchesStdlib(t *testing.T) {
	at := time.Date(2026, 11, 27, 6, 32, 30, 123456789, time.UTC)
	for _, m := range []Metadata{
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
		checkMetadata(t, Metadata{WebhookID: webhook, Region: region, ReceivedAt: at, Source: source})
	})
}
