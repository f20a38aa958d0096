// Package corpus generates realistic CometChat webhook traffic, reproducibly
// from a seed, as the exact JSON bodies CometChat posts: many meetings and
// some 1:1 ringing calls (answered, unanswered, rejected, busy, cancelled or
// left ringing), with what real traffic brings along — rejoins, late joins,
// early leaves, a second device joining while the first is still in, two
// people joining in the same second, leaves whose join never arrived, joins
// whose leave never arrived, missing meeting_started or meeting_ended,
// all_occupants filling some gaps and not others, recordings and
// transcriptions after the end, and duplicate deliveries (retries, and the
// same event through a second webhook configuration, under another webhook
// id and sometimes spelled differently: "1696934501" for 1696934501).
//
// A Session lists the distinct events that are delivered (Events); Render
// turns one into a body, Deliveries and Stream order them for posting,
// duplicates included. What a server should report for the sessions is not
// computed here: package expect does that from the Events alone, by the
// rules of API.md, so that generation and expectation stay apart.
//
// This package is for tests, the end-to-end test and cmd/loadgen. It is not
// internal/eventgen, which writes already-decoded events straight into an
// event store for the projection benchmarks.
package corpus
