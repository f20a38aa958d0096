package cometchat

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/meetingd/meetingd/cometchat/cometchattest"
)

// treeSeeds are bodies where encoding/json's rules are easy to get wrong:
// duplicate names, escapes, surrogates, numbers, empty containers, trailing
// data, other top-level values.
var treeSeeds = []string{
	`{}`,
	` {"a":1} `,
	`{"a":1,"a":{"b":2},"a":[3]}`,
	`{"a":{"x":1,"y":2},"a":{"z":3}}`,
	`{"a":[],"b":{},"c":null,"d":true,"e":false,"f":""}`,
	`{"n":-0,"m":1e400,"o":1.50,"p":-12.5E-3,"q":0.0}`,
	`{"s":"\u00e9\ud83d\ude00\n\t\"\\\/","t":"\ud800","u":"\udc00x","v":"\ud800\ud800"}`,
	`{"\u0061":1,"a":2}`,
	`{"a":"<&>","b":"\u2028"}`,
	`{"a":1} {"b":2}`,
	`{"a":1}x`,
	`{"a":1,}`,
	`{"a":01}`,
	`{"a":"\x"}`,
	`{"a" 1}`,
	`[1,2]`,
	`"s"`,
	`null`,
	`12`,
	``,
	` `,
	`{"a":[[[[[]]]]],"b":[{"c":[null,1,"x"]}]}`,
	`{"a":1`,
	"\ufeff{}",
	`{"a":NaN}`,
}

// treeCorpus is every seed, the shared CometChat fixtures and the committed
// FuzzDecode corpus.
func treeCorpus(t testing.TB) [][]byte {
	var out [][]byte
	for _, s := range treeSeeds {
		out = append(out, []byte(s))
	}
	for _, name := range cometchattest.FixtureNames(t) {
		out = append(out, cometchattest.Fixture(t, name, nil))
	}
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzDecode", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[1], "[]byte(") {
			continue
		}
		body, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, []byte(body))
	}
	return out
}

// checkTree asserts that parseTree accepts only what encoding/json accepts,
// with the same tree.
func checkTree(t *testing.T, body []byte) {
	t.Helper()
	fast, ok := parseTree(body)
	slow, err := parseObjectStdlib(body)
	switch {
	case ok && err != nil:
		t.Fatalf("parseTree accepted %q, which encoding/json refuses: %v", body, err)
	case ok && !reflect.DeepEqual(fast, slow):
		t.Fatalf("parseTree(%q) = %#v, encoding/json = %#v", body, fast, slow)
	}
	// parseObject as a whole always agrees with encoding/json.
	got, gerr := parseObject(body)
	if !reflect.DeepEqual(got, slow) || errString(gerr) != errString(err) {
		t.Fatalf("parseObject(%q) = %#v, %v; encoding/json = %#v, %v", body, got, gerr, slow, err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestParseTreeMatchesStdlib(t *testing.T) {
	for _, body := range treeCorpus(t) {
		checkTree(t, body)
	}
}

// TestParseTreeTakesWebhooks: the fast path, not the fallback, parses the
// webhooks CometChat sends.
func TestParseTreeTakesWebhooks(t *testing.T) {
	for _, name := range cometchattest.FixtureNames(t) {
		body := cometchattest.Fixture(t, name, nil)
		if _, ok := parseTree(body); !ok {
			t.Errorf("fixture %s went to the encoding/json fallback", name)
		}
	}
}

// FuzzParseTreeMatchesStdlib checks parseTree against encoding/json on
// arbitrary bodies.
//
//	go test -run='^$' -fuzz=FuzzParseTreeMatchesStdlib -fuzztime=1m ./domain/
func FuzzParseTreeMatchesStdlib(f *testing.F) {
	for _, body := range treeCorpus(f) {
		f.Add(body)
	}
	f.Fuzz(checkTree)
}
