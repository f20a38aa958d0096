package readmodel

import gojson "github.com/goccy/go-json"

// The records' JSON sections (meetings and participant rows) are encoded
// and decoded with github.com/goccy/go-json: the same bytes as
// encoding/json (TestJSONCodecMatchesStdlib), several times faster, which
// BenchmarkRebuild (projections) and the report benchmarks measure.

func marshalJSON(v any) ([]byte, error) { return gojson.Marshal(v) }

func unmarshalJSON(data []byte, v any) error { return gojson.Unmarshal(data, v) }
