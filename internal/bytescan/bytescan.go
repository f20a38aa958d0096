package bytescan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// Hit is one needle found in one file.
type Hit struct {
	Path, Needle string
}

// Find returns, in walk order, every (file, needle) pair of the regular
// files under dir whose bytes contain the needle. skip, when not nil,
// leaves out the files it returns true for.
func Find(dir string, needles []string, skip func(path string) bool) ([]Hit, error) {
	var hits []Hit
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (skip != nil && skip(path)) {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(data, []byte(n)) {
				hits = append(hits, Hit{Path: path, Needle: n})
			}
		}
		return nil
	})
	return hits, err
}

// None fails t for every needle a file under dir holds.
func None(t testing.TB, dir string, needles ...string) {
	t.Helper()
	hits, err := Find(dir, needles, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		t.Errorf("%s holds %q", h.Path, h.Needle)
	}
}

// Forms returns each string with the other spellings JSON may give it,
// without duplicates: encoding/json's (\u003c for <, \u0026 for &) and the
// ASCII-only escaping other encoders write (\u00ef for ï, surrogate pairs
// beyond U+FFFF, in lower and in upper case hex).
func Forms(ss ...string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, s := range ss {
		add(s)
		if esc, err := json.Marshal(s); err == nil {
			add(string(esc[1 : len(esc)-1]))
		}
		add(asciiEscaped(s, "\\u%04x"))
		add(asciiEscaped(s, "\\u%04X"))
	}
	return out
}

// asciiEscaped writes every non-ASCII rune of s as \u escapes (format).
func asciiEscaped(s, format string) string {
	var b strings.Builder
	for _, r := range s {
		if r < utf8.RuneSelf {
			b.WriteRune(r)
			continue
		}
		if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
			fmt.Fprintf(&b, format+format, r1, r2)
			continue
		}
		fmt.Fprintf(&b, format, r)
	}
	return b.String()
}
