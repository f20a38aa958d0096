package benchreport

import "time"

// The figures of issue 20: final reports pushed to the customer
// (notify.BenchmarkNotifyFinal10k).
var (
	notifyAloneS      = Metric{Pkg: "notify", Bench: "NotifyFinal10k/alone", Unit: "deliver-s", As: "s"}
	notifyBareS       = Metric{Pkg: "notify", Bench: "NotifyFinal10k/bare", Unit: "deliver-s", As: "s"}
	notifyStuckRate   = Metric{Pkg: "notify", Bench: "NotifyFinal10k/beside-stuck", Unit: "meetings/s"}
	notifyAnswerRate  = Metric{Pkg: "notify", Bench: "NotifyFinal10k/beside-answering", Unit: "meetings/s"}
	notifyPeakHeap    = Metric{Pkg: "notify", Bench: "NotifyFinal10k/alone", Unit: "peak-heap-MiB", As: "MiB"}
	notifyBaseHeap    = Metric{Pkg: "notify", Bench: "NotifyFinal10k/alone", Unit: "base-heap-MiB", As: "MiB"}
	notifyInvocations = []Invocation{
		{Pkg: "notify", Bench: "^BenchmarkNotifyFinal10k$", Benchtime: "1x", Count: 1, Timeout: 10 * time.Minute},
	}
)

func notifyFigures() []Figure {
	return []Figure{
		{Name: "10,000 meetings finalised at once, their meeting.final delivered to a receiver on loopback", Value: notifyAloneS, Baseline: notifyBareS,
			BaselineName: "the same 10,000 bodies POSTed by a plain client, 8 at a time", Target: under(30), Unmet: notifyNote},
		{Name: "Delivery to an endpoint beside one that never answers (10,000 finals)", Value: notifyStuckRate, Baseline: notifyAnswerRate,
			BaselineName: "the same beside an endpoint that answers", Target: ratio(0.8), Unmet: notifyNote},
		{Name: "Peak Go heap while 10,000 finals are decided and delivered", Value: notifyPeakHeap, Baseline: notifyBaseHeap,
			BaselineName: "heap before the meetings go final", Target: under(256), Unmet: notifyNote},
	}
}

func notifyNote(l Lookup, r Row) string {
	return shortBy(r) + " Deciding a final reads the session's stream, folds it and writes the decision with its " +
		"deliveries (500 sessions a transaction); every result is written by one committer in groups, each an fsync " +
		"of notify.db that competes with the decisions for bbolt's one writer." + contention(l) +
		" What would help: deciding and recording in larger groups, and bodies stored once per decision rather than " +
		"once per subscription."
}
