package domain

import "errors"

// ErrUnknownEventType is wrapped by Unmarshal for a type name that names no
// event of this package.
var ErrUnknownEventType = errors.New("unknown event type")
