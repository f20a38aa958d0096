package api

// Parsers exported to the external tests (the fuzz target).
var (
	ParseRange    = parseRange
	DurationQuery = durationQuery
	ParseLimit    = parseLimit
	ParseCursor   = parseCursor
	ParseFormat   = parseFormat
	ParsePathID   = parsePathID
	ClientAddr    = clientAddr
	StatusOf      = statusOf
)
