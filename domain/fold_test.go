package domain_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/domain/foldtest"
)

var update = flag.Bool("update", false, "rewrite the fold golden files in testdata/fold")

func meetingJSON(t testing.TB, m domain.Meeting) []byte {
	t.Helper()
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestFoldGolden folds each testdata/fold/*.jsonl session and compares the
// Meeting with its .golden.json. The goldens are the specification: each
// input file says in its comments what the report must show. Every case is
// also folded in reverse, shuffled with duplicates, and in two halves with a
// JSON round trip of the facts between them; all must give the golden.
func TestFoldGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "fold", "*.jsonl"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".jsonl")
		t.Run(name, func(t *testing.T) {
			events := foldtest.ReadSession(t, in)
			got := meetingJSON(t, domain.Fold(events))
			golden := strings.TrimSuffix(in, ".jsonl") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("meeting differs from %s:\n--- got\n%s\n--- want\n%s", golden, got, want)
			}

			rev := make([]domain.Event, len(events))
			for i, ev := range events {
				rev[len(events)-1-i] = ev
			}
			if b := meetingJSON(t, domain.Fold(rev)); !bytes.Equal(b, want) {
				t.Errorf("reversed order gives a different meeting:\n%s", b)
			}
			rng := rand.New(rand.NewPCG(uint64(len(events)), 7))
			for i := range 20 {
				perm := shuffledWithDuplicates(rng, events)
				if b := meetingJSON(t, domain.Fold(perm)); !bytes.Equal(b, want) {
					t.Fatalf("permutation %d gives a different meeting:\n%s", i, b)
				}
				cut := rng.IntN(len(perm) + 1)
				f := foldtest.Fold(perm[:cut])
				g := roundTripFacts(t, f)
				for _, ev := range perm[cut:] {
					g.Apply(ev)
				}
				if b := meetingJSON(t, g.Meeting()); !bytes.Equal(b, want) {
					t.Fatalf("incremental fold (cut %d of %d) gives a different meeting:\n%s", cut, len(perm), b)
				}
			}
		})
	}
}

// shuffledWithDuplicates returns events in a random order with random
// events repeated (0 to len(events) extra copies).
func shuffledWithDuplicates(rng *rand.Rand, events []domain.Event) []domain.Event {
	out := append([]domain.Event(nil), events...)
	for range rng.IntN(len(events) + 1) {
		out = append(out, events[rng.IntN(len(events))])
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}
