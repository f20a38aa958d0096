package esdbkeys

import (
	"encoding/json"
	"testing"

	"github.com/meetingd/meetingd/eventstore"
)

// FuzzDecode: the decoders of the store's events never panic on what the
// log holds, and what they accept is well formed (a key's stream is the one
// its id names; an erasure's ids are 8 bytes each).
func FuzzDecode(f *testing.F) {
	s := New(nil, "")
	f.Add(s.KeyStream([8]byte{1}), []byte(`{"subject":"`+hex64+`","id":"0100000000000000","key":"`+b64key+`"}`))
	f.Add(s.erasedStream, []byte(`{"subject":"`+hex64+`","ids":["0100000000000000"]}`))
	f.Add(s.erasedStream, []byte(`{"subject":"zz","ids":[1]}`))
	f.Add("x", []byte(`null`))
	f.Fuzz(func(t *testing.T, stream string, data []byte) {
		ev := eventstore.RecordedEvent{Stream: stream, Event: eventstore.Event{Type: keyType, Data: data}}
		if k, err := s.decodeKey(ev); err == nil && s.KeyStream(k.ID) != stream {
			t.Fatalf("key %x accepted from stream %s", k.ID, stream)
		}
		ev.Type = erasedType
		if tb, err := decodeErased(ev); err == nil {
			var d erasedData
			if json.Unmarshal(data, &d) != nil || len(d.IDs) != len(tb.IDs) {
				t.Fatalf("erasure %+v accepted from %q", tb, data)
			}
		}
	})
}

const (
	hex64  = "0000000000000000000000000000000000000000000000000000000000000000"
	b64key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
)
