package corpus_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/cometchat/cometchattest"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/internal/corpus"
)

func generate(t *testing.T, cfg corpus.Config) []corpus.Session {
	t.Helper()
	ss, err := corpus.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

func deliveries(t *testing.T, ss []corpus.Session, dup float64, seed uint64) []corpus.Delivery {
	t.Helper()
	ds, err := corpus.Deliveries(ss, dup, seed)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestDeterministic(t *testing.T) {
	cfg := corpus.Config{Sessions: 300, Seed: 42}
	a, b := generate(t, cfg), generate(t, cfg)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same Config generated two different corpora")
	}
	if !reflect.DeepEqual(deliveries(t, a, 0.2, 9), deliveries(t, b, 0.2, 9)) {
		t.Fatal("the same sessions and seed gave two different deliveries")
	}
	other := generate(t, corpus.Config{Sessions: 300, Seed: 43})
	if reflect.DeepEqual(a, other) {
		t.Fatal("seeds 42 and 43 generated the same corpus")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  corpus.Config
		want string // in the error
	}{
		{"negative sessions", corpus.Config{Sessions: -1}, "Sessions"},
		{"too many users", corpus.Config{Users: 5000}, "Users"},
		{"short span", corpus.Config{Span: time.Minute}, "Span"},
		{"call share over 1", corpus.Config{CallShare: 1.5}, "CallShare"},
		{"several at once", corpus.Config{Sessions: -1, Users: 1}, "Users"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := corpus.New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New(%+v) = %v, want an error naming %s", tc.cfg, err, tc.want)
			}
		})
	}
	if _, err := corpus.Deliveries(nil, 1.5, 1); err == nil {
		t.Fatal("Deliveries accepted a duplicate share of 1.5")
	}
}

// TestBodiesDecode: every body is a webhook meetingd's decoder accepts, for
// the right app and session; the copies of an event share its dedupe key
// (whatever their webhook id and spelling) and distinct events never do, so
// a server stores exactly one event per corpus event.
func TestBodiesDecode(t *testing.T) {
	ss := generate(t, corpus.Config{Sessions: 1000, Seed: 3})
	ds := deliveries(t, ss, 0.3, 3)
	keyOf := map[[2]int]string{}
	eventOf := map[string][2]int{}
	var dec cometchat.Decoder
	for _, d := range ds {
		wh, err := dec.Decode(d.Body)
		if err != nil {
			t.Fatalf("session %d event %d copy %d: %v\n%s", d.Session, d.Event, d.Copy, err, d.Body)
		}
		s := ss[d.Session]
		if wh.Event.AppID != s.AppID || wh.Event.SessionID != s.SessionID || string(wh.Event.Trigger) != s.Events[d.Event].Trigger {
			t.Fatalf("decoded %s/%s %s, want %s/%s %s", wh.Event.AppID, wh.Event.SessionID, wh.Event.Trigger,
				s.AppID, s.SessionID, s.Events[d.Event].Trigger)
		}
		if wh.WebhookID != d.WebhookID {
			t.Fatalf("webhook id %q, want %q", wh.WebhookID, d.WebhookID)
		}
		id := [2]int{d.Session, d.Event}
		key := domain.Key(wh.Event)
		if k, ok := keyOf[id]; ok && k != key {
			t.Fatalf("copies of session %d event %d have keys %q and %q", d.Session, d.Event, k, key)
		}
		keyOf[id] = key
		if other, ok := eventOf[key]; ok && other != id {
			t.Fatalf("events %v and %v share the key %q", other, id, key)
		}
		eventOf[key] = id
	}
	events := 0
	for _, s := range ss {
		events += len(s.Events)
	}
	if len(keyOf) != events {
		t.Fatalf("%d events delivered, want every one of %d", len(keyOf), events)
	}
}

// TestShapedLikeFixtures: every key path of every body is one CometChat's
// documented example of that trigger has (or "uid", which CometChat adds to
// some occupants), and the trigger-level keys the example always sends are
// there.
func TestShapedLikeFixtures(t *testing.T) {
	fixture := map[string]string{ // trigger → fixture file
		"call_busy": "call_initiated", "call_cancelled": "call_initiated", "call_rejected": "call_initiated",
		"call_unanswered": "call_initiated",
	}
	known := map[string]map[string]bool{}
	paths := func(body []byte) map[string]bool {
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		keyPaths(v, "", out)
		return out
	}
	ss := generate(t, corpus.Config{Sessions: 600, Seed: 11})
	for _, d := range deliveries(t, ss, 0.5, 11) {
		var head struct{ Trigger string }
		if err := json.Unmarshal(d.Body, &head); err != nil {
			t.Fatal(err)
		}
		name := head.Trigger
		if f, ok := fixture[name]; ok {
			name = f
		}
		want, ok := known[name]
		if !ok {
			want = paths(cometchattest.Fixture(t, name, nil))
			known[name] = want
		}
		got := paths(d.Body)
		for p := range got {
			if !want[p] && !strings.HasSuffix(p, ".uid") {
				t.Fatalf("%s body has %s, which CometChat's example does not:\n%s", head.Trigger, p, d.Body)
			}
		}
		for _, p := range []string{"trigger", "appId", "region", "webhook", "data"} {
			if !got[p] {
				t.Fatalf("%s body lacks %s:\n%s", head.Trigger, p, d.Body)
			}
		}
	}
}

// keyPaths collects the dotted key paths of a JSON value; array elements
// share their array's path.
func keyPaths(v any, prefix string, out map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			out[p] = true
			keyPaths(x, p, out)
		}
	case []any:
		for _, x := range v {
			keyPaths(x, prefix, out)
		}
	}
}

// TestCoverage: a corpus of 1,200 sessions holds every case the
// package documents, several times.
func TestCoverage(t *testing.T) {
	ss := generate(t, corpus.Config{Sessions: 1200, Seed: 1})
	ds := deliveries(t, ss, 0.15, 1)
	count := map[string]int{}
	for _, s := range ss {
		count[s.Scenario]++
		joins, leaves := map[[2]any]bool{}, map[[2]any]bool{}
		var started, ended, rec, tr bool
		joinsOf := map[string]int{}
		leftAt := map[int64]string{}
		sameSecond := map[int64]int{}
		for _, e := range s.Events {
			switch {
			case strings.HasSuffix(e.Trigger, "_started"):
				started = true
			case strings.HasSuffix(e.Trigger, "_participant_joined"):
				o := e.Occupant
				joins[[2]any{o.Name, o.JoinedAt}] = true
				sameSecond[o.JoinedAt]++
				if o.UID != "" {
					count["occupant with uid"]++
				}
				if e.Client == nil {
					count["join without initial_config"]++
				}
			case strings.HasSuffix(e.Trigger, "_participant_left"):
				leaves[[2]any{e.Occupant.Name, e.Occupant.JoinedAt}] = true
				leftAt[e.Occupant.LeftAt] = e.Occupant.Name
			case strings.HasSuffix(e.Trigger, "_ended"):
				ended = true
				if d := e.DestroyedAt - e.CreatedAt; d == 800 || d == 4000 {
					count["meeting of 800 or 4,000 s"]++
				}
				switch {
				case e.AllOccupants == nil:
					count["all_occupants not sent"]++
				case len(e.AllOccupants) == 0:
					count["all_occupants empty"]++
				default:
					count["all_occupants"]++
				}
			case e.Recording != nil:
				rec = true
			case e.Transcription != nil:
				tr = true
			}
		}
		for k := range joins {
			if !leaves[k] {
				count["join without leave"]++
			}
			joinsOf[k[0].(string)]++
		}
		for k := range joins {
			if name, ok := leftAt[k[1].(int64)]; ok && name != k[0].(string) {
				count["a join in the second another left"]++
			}
		}
		for _, n := range joinsOf {
			if n > 1 {
				count["rejoin"]++
			}
		}
		for k := range leaves {
			if !joins[k] {
				count["leave without join"]++
			}
		}
		for _, n := range sameSecond {
			if n > 1 {
				count["two joins in one second"]++
			}
		}
		if strings.HasPrefix(s.Scenario, "meeting/") {
			if !started {
				count["meeting without meeting_started"]++
			}
			if !ended {
				count["meeting without meeting_ended"]++
			}
		}
		if rec {
			count["recording"]++
		}
		if tr {
			count["transcription"]++
		}
		if strings.Contains(s.SessionID, "/") {
			t.Fatalf("session id %q has a path separator", s.SessionID)
		}
	}
	for _, d := range ds {
		if d.Copy > 0 {
			count["duplicate"]++
			if d.WebhookID != ss[d.Session].Webhooks[0] {
				count["duplicate through another webhook"]++
			}
			if !bytes.Contains(d.Body, []byte(`"audio_call":"`)) && bytes.Contains(d.Body, []byte(`"audio_call":`)) {
				count["duplicate spelled with JSON booleans"]++
			}
		}
	}
	want := []string{
		"meeting/ended", "meeting/no-end", "meeting/ongoing", "call/answered", "call/unanswered", "call/rejected",
		"call/busy", "call/cancelled", "call/initiated", "occupant with uid", "join without initial_config",
		"all_occupants not sent", "all_occupants empty", "all_occupants", "join without leave", "leave without join",
		"rejoin", "two joins in one second", "meeting without meeting_started", "meeting without meeting_ended",
		"recording", "transcription", "duplicate", "duplicate through another webhook",
		"duplicate spelled with JSON booleans", "meeting of 800 or 4,000 s", "a join in the second another left",
	}
	for _, k := range want {
		if count[k] < 3 {
			t.Errorf("%q: %d in 1,200 sessions, want at least 3", k, count[k])
		}
	}
	if t.Failed() || testing.Verbose() {
		keys := slices.Sorted(maps.Keys(count))
		for _, k := range keys {
			t.Logf("%-40s %d", k, count[k])
		}
	}
}

// TestStreamMatchesDeliveries: Stream yields the same bodies as Deliveries
// (in another order), window after window.
func TestStreamMatchesDeliveries(t *testing.T) {
	cfg := corpus.Config{Sessions: 250, Seed: 5}
	g, err := corpus.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var streamed []string
	for d, err := range g.Stream(cfg.Sessions, 40, 0.2, 5) {
		if err != nil {
			t.Fatal(err)
		}
		streamed = append(streamed, string(d.Body))
	}
	var all []string
	for _, d := range deliveries(t, generate(t, cfg), 0.2, 5) {
		all = append(all, string(d.Body))
	}
	sort.Strings(streamed)
	sort.Strings(all)
	if !slices.Equal(streamed, all) {
		t.Fatalf("Stream yielded %d bodies, Deliveries %d, and they differ", len(streamed), len(all))
	}
	n := 0
	for range g.Stream(cfg.Sessions, 40, 0.2, 5) {
		if n++; n == 10 {
			break // stopping early must not panic
		}
	}
	for _, err := range g.Stream(10, 0, 0.2, 5) {
		if err == nil {
			t.Fatal("Stream with window 0 yielded no error")
		}
	}
}
