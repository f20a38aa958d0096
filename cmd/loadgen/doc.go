// Command loadgen posts realistic CometChat webhook traffic (package
// internal/corpus: many meetings and 1:1 calls interleaved, rejoins, lost
// and duplicated deliveries) to a running meetingd, at a target rate or as
// fast as possible, and reports throughput, latency percentiles and answers
// by status, as text or as JSON for scripts:
//
//	loadgen -url http://127.0.0.1:8080/webhooks/cometchat -user cometchat -password secret \
//	    -sessions 5000 -rate 2000 -clients 64 -dup 0.1 -seed 7 -json
//
// -user and -password default to MEETINGD_WEBHOOK_USER and
// MEETINGD_WEBHOOK_PASSWORD. Ctrl-C stops the run and prints what was
// measured so far. The same -seed, -sessions, -apps, -window and -dup always
// send the same bodies in the same order.
package main
