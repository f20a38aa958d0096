// Package billing prices usage: per-minute prices of audio and video
// (MEETINGD_PRICE_AUDIO_PER_MINUTE, MEETINGD_PRICE_VIDEO_PER_MINUTE,
// MEETINGD_PRICE_CURRENCY) and the estimated cost of billable minutes.
//
// Prices are decimal numbers with at most 9 decimals, kept exactly as
// integer billionths of the currency unit, so that a cost is exact before
// it is rounded: EstimatedCost = audio minutes × audio price + video
// minutes × video price, rounded half up to 6 decimals (API.md "Usage").
// Billable minutes are rounded per attendance row by the report stores, not
// here.
//
// It has no state and does no I/O.
package billing
