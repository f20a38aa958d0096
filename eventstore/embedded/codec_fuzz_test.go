package embedded

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/eventstore"
)

// FuzzDecodeRecord feeds the decoders of the stored forms (event records
// and stream heads) arbitrary bytes, as a damaged file would: they never
// panic, reject what is not a whole record with an error, and what they
// accept encodes back to a record that decodes to the same event.
func FuzzDecodeRecord(f *testing.F) {
	ev := eventstore.Event{ID: uuid.MustParse("6f1f3c1e-4a53-5b7e-9d2b-6d656574696e"), Type: "session.started.v1",
		Data: []byte(`{"app_id":"a","session_id":"s"}`), Metadata: []byte(`{"source":"http"}`)}
	good := encodeRecord(&ev, "session-a/s", 3, time.Unix(1700000000, 5))
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add(append(append([]byte(nil), good...), 0))
	f.Add(encodeRecord(&eventstore.Event{ID: uuid.New(), Type: "t"}, "", 0, time.Unix(0, 0)))
	f.Add([]byte{recordVersion})
	f.Add(streamHead{last: 7, lastPos: 99}.encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, v []byte) {
		if h, err := decodeHead(v); err == nil && !bytes.Equal(h.encode(), v) {
			t.Fatalf("head %x decodes to %+v, which encodes to %x", v, h, h.encode())
		}
		var a arena
		rec, err := decodeRecord(v, 42, &a)
		stream, serr := recordStream(v)
		if err != nil {
			return
		}
		if serr != nil || string(stream) != rec.Stream {
			t.Fatalf("recordStream(%x) = %q, %v; decodeRecord says %q", v, stream, serr, rec.Stream)
		}
		// The record is a copy: neither overwriting the file's memory nor
		// decoding more records into the same arena changes it.
		want := rec
		want.Type, want.Stream = strings.Clone(rec.Type), strings.Clone(rec.Stream)
		want.Data, want.Metadata = bytes.Clone(rec.Data), bytes.Clone(rec.Metadata)
		enc := encodeRecord(&rec.Event, rec.Stream, rec.Revision, rec.RecordedAt)
		clear(v)
		again, err := decodeRecord(enc, 42, &a)
		if err != nil || !reflect.DeepEqual(again, want) || !reflect.DeepEqual(rec, want) {
			t.Fatalf("record %+v re-encodes to %+v (%v); first decoding now %+v", want, again, err, rec)
		}
		if len(rec.Data) > 0 && cap(rec.Data) != len(rec.Data) {
			t.Fatalf("data of capacity %d > length %d: an append would overwrite the arena", cap(rec.Data), len(rec.Data))
		}
		if rec.Position != (eventstore.Position{Commit: 42, Prepare: 42}) {
			t.Fatalf("position %+v", rec.Position)
		}
	})
}
