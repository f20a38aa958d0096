package api

// LookupToken exposes the bearer-token lookup to the external tests.
var LookupToken = Tokens.lookup
