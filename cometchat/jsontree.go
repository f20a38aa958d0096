package cometchat

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// parseObject parses body, a JSON object, into a tree of map[string]any,
// []any, string, json.Number, bool and nil. A key sent twice: the last one
// wins, at every level.
//
// The tree is built from encoding/json/jsontext tokens (parseTree, several
// times faster than encoding/json's reflection into map[string]any). Any body the token reader refuses is parsed again by
// encoding/json, whose verdict and error text stand: the fast path only ever
// accepts what encoding/json accepts, with the same tree
// (FuzzParseTreeMatchesStdlib).
func parseObject(body []byte) (map[string]any, error) {
	if top, ok := parseTree(body); ok {
		return top, nil
	}
	return parseObjectStdlib(body)
}

// parseObjectStdlib is parseObject by encoding/json (Decoder.UseNumber).
func parseObjectStdlib(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil {
		return nil, err
	}
	if top == nil {
		return nil, errors.New("null")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the object")
	}
	return top, nil
}
