package readmodel

import (
	"reflect"
	"testing"

	"github.com/meetingd/meetingd/reports"
)

// FuzzDecodeStored feeds every decoder of the read models' stored keys and
// values arbitrary bytes, as a damaged file would: none panics or allocates
// past its input, each either rejects the bytes (errCorrupt) or accepts
// them, and what is accepted encodes back to bytes that decode the same.
func FuzzDecodeStored(f *testing.F) {
	rec := record{version: 3, started: 1700000000, people: []byte(`[]`), facts: nil}
	f.Add(rec.encode([]string{"ana", "bo"}))
	f.Add(openKey(codeLive, 1700000000, "app-1", "s-1"))
	f.Add(sessionKey(reports.SessionKey{AppID: "app-1", SessionID: "s/1"}))
	f.Add(openState{version: 9, code: codeAbandoned, last: -5}.encode())
	f.Add([]byte{1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, v []byte) {
		var s summary
		if err := decodeSummary(v, &s); err == nil && uint64(len(s.hashes))*8 > uint64(len(v)) {
			t.Fatalf("summary of %d bytes holds %d hashes", len(v), len(s.hashes))
		}
		_, _, _, _ = decodeAttendance(v)

		if r, err := decodeRecord(v); err == nil {
			if ids, err := r.participantIDs(); err == nil {
				again, err := decodeRecord(r.encode(ids))
				if err != nil {
					t.Fatalf("record re-encoded: %v", err)
				}
				ids2, err := again.participantIDs()
				if err != nil || !reflect.DeepEqual(ids2, ids) || again.version != r.version || again.started != r.started ||
					string(again.people) != string(r.people) || string(again.facts) != string(r.facts) {
					t.Fatalf("record %x does not survive re-encoding", v)
				}
			}
		}
		if code, last, app, session, err := parseOpenKey(v); err == nil {
			c2, l2, a2, s2, err := parseOpenKey(openKey(code, last, app, session))
			if err != nil || c2 != code || l2 != last || a2 != app || s2 != session {
				t.Fatalf("open key %x does not survive re-encoding", v)
			}
		}
		if k, err := parseSessionKey(v); err == nil {
			if k2, err := parseSessionKey(sessionKey(k)); err != nil || k2 != k {
				t.Fatalf("session key %x does not survive re-encoding", v)
			}
		}
		if st, err := decodeOpenState(v); err == nil && string(st.encode()) != string(v) {
			t.Fatalf("open state %x re-encodes to %x", v, st.encode())
		}
	})
}
