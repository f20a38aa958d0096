package codec

import (
	"encoding/json/jsontext"
	json "encoding/json/v2"
	"errors"
	"time"
)

// answerOptions write the bytes encoding/json (v1) writes, except that a
// zero time.Time — an unknown time: the started_at of a scheduled session,
// the first_joined_at of a roster member who never joined — is null.
var answerOptions = json.JoinOptions(writeOptions, json.WithMarshalers(
	json.MarshalToFunc(func(enc *jsontext.Encoder, t time.Time) error {
		if t.IsZero() {
			return enc.WriteToken(jsontext.Null)
		}
		return errors.ErrUnsupported
	})))

// MarshalAnswer is the JSON of an HTTP answer (the API's encoder): as
// encoding/json writes v, with unknown (zero) times as null.
func MarshalAnswer(v any) ([]byte, error) { return json.Marshal(v, answerOptions) }
