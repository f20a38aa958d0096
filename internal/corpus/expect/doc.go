// Package expect computes, independently of meetingd's own code, the reports
// that API.md ("Reports" and "Report semantics") says a server must give for
// a set of generated sessions. It reads only the events of corpus.Session
// (what was delivered, each once: duplicates change nothing) and applies the
// rules directly and simply — intervals merged by sorting, the peak by a
// sweep over arrivals and departures, buckets by calendar arithmetic — never
// calling domain, projections or api.
//
// Where API.md is silent the rules are those documented on domain.Meeting,
// restated here:
//   - kind is "call" when any event is a call_* trigger or has type "call";
//   - a live meeting is measured up to its newest CometChat timestamp
//     (last_event_at): duration_seconds = last_event_at − started_at, and open
//     intervals count up to it for attended_seconds (they have no end for the
//     peak); last_left_at is null while the participant is still in;
//   - a ringing call's outcome is "answered" when it started (call_started or
//     any participant interval), else its rejected/busy/cancelled/unanswered
//     action, else "answered" if it ended, else "initiated"; an unanswered
//     (missed) call is "ended" at its ringing's end, which is also its
//     started_at (duration 0);
//   - name is the name reported with the newest time (a join's joined_at, a
//     leave's left_at), ties to the greatest; platform and sdk come from the
//     newest join that sent initial_config; audio_only is true when every
//     flag sent said audio-only;
//   - the meeting list and a participant's meetings are ordered by started_at,
//     then session id, both descending; weeks start on Monday 00:00 UTC
//     (local, with a zone);
//   - audio and video seconds (API.md "Usage") split a participant's time
//     over elementary segments between interval boundaries (a different
//     method from the fold's union and difference); usage and zoned
//     duration buckets are the local wall clock's date, hour, Monday or 1st.
package expect
