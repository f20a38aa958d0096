// Package archtest holds no code: its tests check the layout rules of
// DESIGN.md against the tree as it is, so that a change that breaks one fails
// `make test` instead of waiting for a reviewer.
//
//   - The never-rules, on each package's transitive imports (`go list -deps`,
//     production code only): domain imports nothing of meetingd outside
//     itself and no third-party module but its allowed few; eventstore
//     imports no reader; projections imports no HTTP and no ClickHouse;
//     clickhouse imports no HTTP.
//   - The domain names no CometChat trigger: only the cometchat package knows
//     the provider's wire format.
//   - Every package has a doc.go whose comment sits directly above its
//     package clause, at most 80 lines long: a package doc states the
//     contract, and history and measurements live in docs/.
package archtest
