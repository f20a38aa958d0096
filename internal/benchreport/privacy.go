package benchreport

import (
	"path/filepath"
	"strconv"
	"time"
)

// The figures of issue 21: sealing personal data on the intake and opening
// it on a rebuild, each against the same path without sealing in the same
// run (the code as it was before, which the unsealed path still is).

func privacyInvocations(z sizes, logDir string, share func() error) []Invocation {
	return []Invocation{
		{Pkg: "intake", Bench: "^BenchmarkIngestSealing$", Benchtime: "2x", Count: 1, Timeout: 10 * time.Minute},
		{Pkg: "projections", Bench: "^BenchmarkRebuildSealed$", Benchtime: "1x", Count: 1, Timeout: 30 * time.Minute,
			Args: []string{"-projections.events", strconv.Itoa(z.events), "-projections.dir", filepath.Join(logDir, "eventstore")}, Prepare: share},
	}
}

var (
	ingestPlain   = Metric{Pkg: "intake", Bench: "IngestSealing/plain", Unit: "webhooks/s"}
	ingestSealed  = Metric{Pkg: "intake", Bench: "IngestSealing/sealed", Unit: "webhooks/s"}
	rebuildPlain  = Metric{Pkg: "projections", Bench: "RebuildSealed/plain", Unit: "events/s"}
	rebuildSealed = Metric{Pkg: "projections", Bench: "RebuildSealed/sealed", Unit: "events/s"}
)

func privacyFigures(z sizes) []Figure {
	note := func(what string) func(Lookup, Row) string {
		return func(l Lookup, r Row) string {
			return shortBy(r) + " " + what + contention(l)
		}
	}
	return []Figure{
		{Name: "Intake with personal data sealed (Service.Ingest, 64 goroutines, embedded store and keyring)", Value: ingestSealed,
			Baseline: ingestPlain, BaselineName: "the same intake without sealing", Target: ratio(0.85),
			Unmet: note("Sealing costs an AES-GCM seal and an HMAC per name, and an fsync of the keyring per new subject (grouped).")},
		{Name: "Rebuild of a sealed log of " + formatNumber(float64(z.events)) + " events (every name opened through the keyring)", Value: rebuildSealed,
			Baseline: rebuildPlain, BaselineName: "the rebuild of the same corpus unsealed", Target: ratio(0.8),
			Unmet: note("Opening costs a base64 decoding and an AES-GCM open per name, spread over the decoding workers.")},
	}
}
