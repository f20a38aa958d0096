// Command meetingd is the one binary of meetingd: configuration parsing and
// wiring only.
//
//	meetingd serve            run the service (HTTP intake, projections, reports, jobs)
//	meetingd import FILE      append webhooks, and plans ({"session_id","app_id","plan"}
//	                          lines), from a JSON Lines file ("-" for stdin)
//	meetingd rebuild          rebuild every read model from the event log
//
// Configuration comes from MEETINGD_* environment variables, each also a flag
// of serve (flags win); see README.md for the table.
package main
