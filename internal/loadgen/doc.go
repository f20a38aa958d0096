// Package loadgen posts webhook bodies to a running meetingd at a target
// rate, or as fast as its clients can, and measures what came back:
// throughput, latency percentiles (HdrHistogram) and answers by HTTP status.
//
// At a target rate the load is open-loop: request i is due at start + i/rate
// whether or not earlier answers have come back, and its latency is measured
// from when it was due, so a server that stalls is charged for the requests
// it held up (no coordinated omission). The service time, from when the
// request was actually sent, is reported beside it. With rate 0 every client
// sends its next request as soon as its previous one is answered, and both
// figures are the same.
package loadgen
