package eventstore

import (
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// ValidateAppend checks what every Store requires of an append: a stream
// name of at most MaxStreamNameBytes, at least one event, and every event with a type and an ID that is
// not repeated within the append. storeRules are the implementation's own
// findings about stream (length limits, reserved names), reported with the
// rest. The error wraps ErrInvalidEvent and names every problem; nil if none.
func ValidateAppend(stream string, events []Event, storeRules ...error) error {
	var errs []error
	if stream == "" {
		errs = append(errs, errors.New("empty stream name"))
	} else if len(stream) > MaxStreamNameBytes {
		errs = append(errs, fmt.Errorf("stream name of %d bytes exceeds %d", len(stream), MaxStreamNameBytes))
	}
	errs = append(errs, storeRules...)
	if len(events) == 0 {
		errs = append(errs, errors.New("no events"))
	}
	seen := make(map[uuid.UUID]bool, len(events))
	for i, e := range events {
		if e.ID == uuid.Nil {
			errs = append(errs, fmt.Errorf("event %d has no ID", i))
		} else if seen[e.ID] {
			errs = append(errs, fmt.Errorf("event %d repeats ID %s", i, e.ID))
		}
		seen[e.ID] = true
		if e.Type == "" {
			errs = append(errs, fmt.Errorf("event %d has no type", i))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	}
	return nil
}
