package api

import "time"

// Parsers exported to the external tests (the fuzz target).
var (
	ParseRange    = parseRange
	DurationQuery = durationQuery
	UsageQuery    = usageQuery
	ParseZone     = func(v string) (*time.Location, error) { var z zones; return z.parse(v) }
	ParseLimit    = parseLimit
	ParseCursor   = parseCursor
	ParseFormat   = parseFormat
	ParsePathID   = parsePathID
	ClientAddr    = clientAddr
	StatusOf      = statusOf
)
