package reports

import (
	"errors"
	"fmt"
)

// ErrNotFound is returned for a meeting that no read model holds.
var ErrNotFound = errors.New("reports: not found")

// ErrBadCursor is returned for a page cursor that no store gave out.
var ErrBadCursor = errors.New("reports: invalid cursor")

// ErrInvalidQuery is returned for a query that the contract does not define:
// without an app id, or with a status or bucket it does not know. The error
// is a *QueryError naming the parameter.
var ErrInvalidQuery = errors.New("reports: invalid query")

// QueryError is an invalid query: Param names the offending parameter (app,
// status or bucket), Value is what it was, Reason what it must be. It wraps
// ErrInvalidQuery. Param and Reason never carry the value, so that they can
// be shown to a client as "Param: Reason".
type QueryError struct {
	Param, Value, Reason string
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("%v: %s %q: %s", ErrInvalidQuery, e.Param, e.Value, e.Reason)
}

// Unwrap returns ErrInvalidQuery.
func (e *QueryError) Unwrap() error { return ErrInvalidQuery }

// errNoApp is the error of a query without an app id.
func errNoApp() error { return &QueryError{Param: "app", Reason: "required"} }
