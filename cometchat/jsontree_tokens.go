package cometchat

import (
	"bytes"
	"encoding/json"
	"encoding/json/jsontext"
	"errors"
	"io"
	"sync"
	"unicode/utf8"
)

// treeReader is a pooled token reader; buf aliases the body being read.
type treeReader struct {
	buf bytes.Buffer
	dec *jsontext.Decoder
}

var treeReaders = sync.Pool{New: func() any {
	r := &treeReader{}
	r.dec = jsontext.NewDecoder(&r.buf)
	return r
}}

// treeOptions are encoding/json's (v1) rules: duplicate names allowed (the
// last wins) and an escaped lone surrogate read as U+FFFD. The body itself
// is valid UTF-8 (Decode checks it first).
var treeOptions = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

// parseTree is parseObject's fast path; false means "ask encoding/json".
//
// The body is copied into one string, and every string, name and number
// without escapes is a substring of it: the tree allocates little more than
// its maps and the interface boxes of its scalars.
func parseTree(body []byte) (map[string]any, bool) {
	if !utf8.Valid(body) {
		return nil, false // encoding/json replaces invalid bytes; left to it
	}
	r := treeReaders.Get().(*treeReader)
	defer func() {
		r.buf = *bytes.NewBuffer(nil)
		r.dec.Reset(&r.buf)
		treeReaders.Put(r)
	}()
	r.buf = *bytes.NewBuffer(body)
	r.dec.Reset(&r.buf, treeOptions...)
	if r.dec.PeekKind() != '{' {
		return nil, false
	}
	t := tree{dec: r.dec, src: string(body)}
	v, err := t.value()
	if err != nil {
		return nil, false
	}
	if _, err := r.dec.ReadToken(); err != io.EOF {
		return nil, false
	}
	return v.(map[string]any), true
}

// tree reads the values of a body (src) from dec.
type tree struct {
	dec *jsontext.Decoder
	src string
}

// errTree stops the fast path; encoding/json then decides.
var errTree = errors.New("left to encoding/json")

// value reads one JSON value. jsontext bounds the nesting depth (10,000,
// as encoding/json does), and so this recursion.
func (t *tree) value() (any, error) {
	switch t.dec.PeekKind() {
	case '{':
		if _, err := t.dec.ReadToken(); err != nil {
			return nil, err
		}
		m := make(map[string]any)
		for t.dec.PeekKind() != '}' {
			key, err := t.text()
			if err != nil {
				return nil, err
			}
			v, err := t.value()
			if err != nil {
				return nil, err
			}
			m[key] = v
		}
		if _, err := t.dec.ReadToken(); err != nil {
			return nil, err
		}
		return m, nil
	case '[':
		if _, err := t.dec.ReadToken(); err != nil {
			return nil, err
		}
		a := []any{}
		for t.dec.PeekKind() != ']' {
			v, err := t.value()
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		if _, err := t.dec.ReadToken(); err != nil {
			return nil, err
		}
		return a, nil
	case '"':
		return t.text()
	case '0':
		s, err := t.text()
		return json.Number(s), err
	}
	tok, err := t.dec.ReadToken()
	if err != nil {
		return nil, err
	}
	switch tok.Kind() {
	case 't', 'f':
		return tok.Bool(), nil
	case 'n':
		return nil, nil
	}
	return nil, errTree
}

// text reads a string (or name) and returns its unescaped value, or a number
// and returns its literal.
func (t *tree) text() (string, error) {
	raw, err := t.dec.ReadValue()
	if err != nil {
		return "", err
	}
	end := int(t.dec.InputOffset())
	start := end - len(raw)
	if start < 0 || t.src[start:end] != string(raw) {
		return "", errTree
	}
	if raw[0] != '"' {
		return t.src[start:end], nil
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return t.src[start+1 : end-1], nil
	}
	b, err := jsontext.AppendUnquote(nil, raw)
	if err != nil {
		return "", errTree
	}
	return string(b), nil
}
