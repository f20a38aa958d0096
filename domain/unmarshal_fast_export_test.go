package domain

import "fmt"

// UnmarshalFast and UnmarshalGoccy are Unmarshal's two decoders, compared
// by the fast path's differential tests and benchmark.
var (
	UnmarshalFast  = unmarshalFast
	UnmarshalGoccy = unmarshalGoccy
)

// UnmarshalBefore is Unmarshal as it was before the fast path and the
// well-formedness check of the general decoder: BenchmarkUnmarshal's
// baseline.
func UnmarshalBefore(eventType string, data []byte) (Event, error) {
	decode := goccyDecoder(eventType)
	if decode == nil {
		return Event{}, fmt.Errorf("unmarshal: %w: %q", ErrUnknownEventType, eventType)
	}
	return decode(data)
}
