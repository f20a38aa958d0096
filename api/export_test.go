package api

// Parsers exported to the external tests (the fuzz target).
var (
	ParseRange          = parseRange
	ParseDurationParams = parseDurationParams
	ParseLimit          = parseLimit
	ParseCursor         = parseCursor
	ParseStatus         = parseStatus
	ParseFormat         = parseFormat
	ParsePathID         = parsePathID
	ClientAddr          = clientAddr
	StatusOf            = statusOf
)
