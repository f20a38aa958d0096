// Package codec holds meetingd's stored byte forms: what is written to the
// event log and to the embedded read models, and read back on every rebuild.
//
//   - Events: MarshalEvent and UnmarshalEvent, the data of a stored event
//     (its type name is Event.Type()): an envelope (app_id, session_id,
//     kind, trigger) around the payload of package domain's type.
//   - Facts: MarshalFacts and UnmarshalFacts, a session's fold state
//     (domain.FactsState behind a version, "v":1), deterministic: equal
//     facts give equal bytes. UnmarshalFacts merges into the Facts given.
//   - Read-model rows: MeetingRow and UnmarshalMeeting (a meeting without
//     its participants), Participants and UnmarshalParticipants (its
//     participant rows); AppendMeeting and AppendAttendance write any
//     Meeting and rows.
//
// Guarantees. The bytes are exactly those encoding/json (v1) writes for the
// same values — struct fields in declaration order, omitempty as v1
// defines it, nil slices as null, <, >, & and U+2028/U+2029 escaped,
// invalid UTF-8 as U+FFFD, map keys sorted — so that what is stored today
// reads and compares as it always has. Differential tests and fuzz targets
// compare every writer with encoding/json itself, and every fast reader
// with the general one. Decoding is as v1's: unknown fields ignored, names
// matched without regard to case, duplicate names allowed (the last wins).
// Malformed input is an error, never a panic; an unknown event type is
// domain.ErrUnknownEventType.
//
// One JSON engine: encoding/json/v2 (with the options above, engine.go)
// for every general path. Hand-written code is kept only where it measures
// clearly faster (BENCHMARKS.md, docs/adr/0015-json-engine.md): the writers
// of events, facts, meetings and participant rows, a scanner of the exact
// form MarshalEvent writes for the five frequent event types, and one of
// the exact form MeetingRow writes (read on every list page); each leaves
// anything else to the general decoder.
//
// Every function may run concurrently with any other, on distinct values;
// none keeps its arguments or the bytes it is given.
package codec
