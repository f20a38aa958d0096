package domain

// MarshalStd is Event.Marshal as encoding/json writes it: the reference the
// hand-written stored form must match byte for byte (the code Marshal
// replaced), and BenchmarkMarshal's baseline.
var MarshalStd = marshalStd

// MarshalFast is the hand-written stored form alone, without the fallback:
// it reports false where Marshal falls back to encoding/json.
func MarshalFast(e Event) ([]byte, bool) { return appendEventJSON(nil, e) }
