package benchreport

import (
	"fmt"
	"strconv"
	"strings"
)

// The notes of unmet targets: why, from what the same run measured, and
// what would meet the target. They read the run's medians, so the numbers
// they quote are this run's.

// show formats a median of the run with its unit, or says it is missing.
func show(l Lookup, m Metric) string {
	v, ok := l.Median(m)
	if !ok {
		return "(not measured)"
	}
	return formatNumber(v) + " " + m.unit()
}

// load is the machine's 1-minute load average at the start, per core.
func load(l Lookup) (avg float64, perCore float64, ok bool) {
	f := strings.Fields(l.Machine.LoadStart)
	if len(f) == 0 || l.Machine.Cores == 0 {
		return 0, 0, false
	}
	avg, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return 0, 0, false
	}
	return avg, avg / float64(l.Machine.Cores), true
}

// contention says how loaded the machine was, when it was.
func contention(l Lookup) string {
	avg, per, ok := load(l)
	if !ok || per < 1 {
		return ""
	}
	return fmt.Sprintf(" The machine was shared: load average %s on %d cores at the start (%.1f runnable threads per core), "+
		"so each process got a fraction of a core and wall-clock figures are lower than on an idle machine.",
		formatNumber(avg), l.Machine.Cores, per)
}

// shortBy says how far a figure is from its target.
func shortBy(r Row) string {
	f := r.Figure
	v := r.Value.Median
	what := fmt.Sprintf("%s %s", formatNumber(v), f.Value.unit())
	if f.Target.OnRatio {
		v, what = r.Ratio, "a ratio of "+formatNumber(r.Ratio)
	}
	if f.Target.AtLeast {
		return fmt.Sprintf("Measured %s, %.0f%% of the target %s.", what, 100*v/f.Target.Limit, f.Target.describe(f.Value.unit()))
	}
	return fmt.Sprintf("Measured %s, %s× the limit (%s).", what, formatNumber(v/f.Target.Limit), f.Target.describe(f.Value.unit()))
}

func intakeNote(l Lookup, r Row) string {
	alloc := func(bench string) string {
		return show(l, Metric{Pkg: "api", Bench: bench, Unit: "B/op", As: "B"}) + " in " +
			show(l, Metric{Pkg: "api", Bench: bench, Unit: "allocs/op", As: "allocations"})
	}
	return shortBy(r) + " Each accepted webhook is decoded, keyed for deduplication and appended durably (fsync) before the " +
		"answer; the store groups concurrent appends into one commit (" + show(l, eventsPerTx) + " in the store benchmark), " +
		"so intake is bound by commits per second and by the CPU that the clients, the server and the commit loop share. " +
		"Per request the in-process intake benchmark allocates " + alloc("IntakeHTTP") + ", the bare handler " +
		alloc("BareFiberHTTP") + "." + contention(l) + " What would meet it: more events per commit under load (a " +
		"group-commit window that grows with the queue), less CPU and fewer allocations per request on the intake path, " +
		"or clients on another machine than the server."
}

func intakeLatencyNote(l Lookup, r Row) string {
	note := shortBy(r) + " The bare handler's p99 on the same clients is " + formatNumber(r.Baseline.Median) + " ms"
	if r.Baseline.Median >= r.Figure.Target.Limit/2 {
		note += ": with 64 clients on two cores most of the latency is queueing for a CPU, not intake work."
	} else {
		note += fmt.Sprintf(", so intake adds about %s ms at p99: the wait for the group commit's fsync and the CPU of "+
			"decoding and appending, shared with the clients.", formatNumber(r.Value.Median-r.Baseline.Median))
	}
	return note + contention(l) + " What would meet it: shorter waits for a commit under load (a commit loop that " +
		"starts the next fsync as soon as the previous one ends, with every append queued meanwhile), less CPU per " +
		"request, and clients on another machine than the server."
}

func appendNote(l Lookup, r Row) string {
	return shortBy(r) + " The store commits " + show(l, eventsPerTx) + " per fsync; the raw baseline writes one record " +
		"per fsync from one goroutine, with no B-tree, no index and no encoding." + contention(l) +
		" What would meet it: more events per commit (the group-commit window), and less CPU per event in the commit path " +
		"(encoding, index updates) so that the commit loop is bound by fsync as the baseline is."
}

// rebuildNote explains a rebuild of events events below target.
func rebuildNote(events float64) func(Lookup, Row) string {
	return func(l Lookup, r Row) string {
		note := shortBy(r) + " That is the rate `meetingd rebuild` prints, over its rebuild phase."
		opening := ""
		if ns, ok := l.Median(rebuildWall); ok && ns > 0 {
			wall := ns / 1e9
			note += fmt.Sprintf(" End to end, from process start to exit, the command took %s s: %s events/s.", formatNumber(wall), formatNumber(events/wall))
			if r.Value.Median > 0 {
				outside := max(wall-events/r.Value.Median, 0)
				note += fmt.Sprintf(" About %s s of it were outside the rebuild phase (opening the log and the read models, closing them).",
					formatNumber(outside))
				if outside > wall/4 {
					opening = ", and opening the event log without walking its whole file (embedded.Open verifies every " +
						"page and bbolt rebuilds its freelist by a scan)"
				}
			}
			if cpu, ok := l.Median(rebuildCPU); ok {
				note += fmt.Sprintf(" The process used %s CPU-seconds (%s cores on average).", formatNumber(cpu), formatNumber(cpu/wall))
			}
		}
		return note + " Reading the log alone runs at " + formatNumber(r.Baseline.Median) + " events/s in the same run: " +
			"the fold and the read-model writes, not reading the event store, set the pace." + contention(l) +
			" What would meet it: less CPU per event in the rebuild (decode each stored event once, fold in memory, write " +
			"each session's read model once per batch in large transactions) and spreading the fold over both cores" +
			opening + "."
	}
}

// lagPremise: the lag is the figure only if the store took the
// offered 5,000 appends/s (within 5%).
func lagPremise(l Lookup) string {
	got, ok := l.Median(lagRate)
	if !ok || got >= 0.95*lagOffered {
		return ""
	}
	return fmt.Sprintf("The embedded store took only %s appends/s of the %s/s offered (single-event appends from 256 "+
		"goroutines; the store benchmark's 64 goroutines reached %s), so the lag was not measured at the target's load: "+
		"the rest queued before the store. Meeting the target first needs an append path that takes 5,000 single-event "+
		"appends/s on this machine (more events per group commit, less CPU per append).",
		formatNumber(got), formatNumber(lagOffered), show(l, appendRate))
}

func lagNote(l Lookup, r Row) string {
	return shortBy(r) + " The baseline, the p99 of the durable append alone, is " + formatNumber(r.Baseline.Median) +
		" ms. The runner commits a batch every 2,000 events or 200 ms, so lag beyond that is the time the fold and the " +
		"read-model write of a batch take, and batches wait for the CPU the appenders use." + contention(l) +
		" What would meet it: a faster batch (the rebuild figure measures the same fold and write), or smaller batches " +
		"when the runner keeps up."
}

// p50Of is the p50 metric beside a p99 one.
func p50Of(m Metric) Metric {
	m.Unit = strings.Replace(m.Unit, "p99", "p50", 1)
	return m
}

// The kinds of read queries, for their notes.
const (
	pointRead = "point"
	pageRead  = "page"
	scanRead  = "scan"
)

// readNote explains a report query's p99 over its limit: in process
// (inProcess is the zero Metric) or over HTTP, where inProcess is the same
// query's figure of the read-model benchmarks.
func readNote(kind string, inProcess Metric) func(Lookup, Row) string {
	return func(l Lookup, r Row) string {
		note := shortBy(r) + " Its p50 is " + show(l, p50Of(r.Figure.Value)) + "; the baseline (" + r.Figure.BaselineName +
			") has a p99 of " + formatNumber(r.Baseline.Median) + " ms in the same run."
		if inProcess != (Metric{}) {
			note += " In process, without HTTP, the same query's p99 is " + show(l, inProcess) + ": the rest is the HTTP " +
				"round trip, JSON encoding and waiting for a CPU, which /healthz shows the floor of."
		}
		switch kind {
		case pointRead:
			note += " A meeting is one B-tree lookup and the decoding of one record, so a p99 far above the p50 is a " +
				"record not in the page cache (the store is a file of gigabytes, read through mmap) or a thread waiting " +
				"for a CPU. What would meet it: the store's pages kept in memory (enough RAM for the page cache, or a " +
				"warm-up read at start) and a machine that is not shared."
		case pageRead:
			note += " A page walks an index and, for each of its 100 meetings, looks the meeting up in the sessions " +
				"bucket and decodes its JSON record: 100 random reads of the store file, each a possible page fault, and " +
				"100 decodes. What would meet it: keeping the fields a list row shows in the index value, so that a page " +
				"is one sequential range read with no lookups and no JSON decoding."
		default:
			note += " The report scans the summaries of every meeting started in the 30 days. What would meet it: " +
				"daily aggregates maintained by the projection, so that the report reads 30 values."
		}
		return note + contention(l)
	}
}

// zoneNote explains a zoned report (usage, or durations in a zone) over its
// target.
func zoneNote(l Lookup, r Row) string {
	return shortBy(r) + " Its p50 is " + show(l, p50Of(r.Figure.Value)) + "; the baseline (" + r.Figure.BaselineName +
		") has a p99 of " + formatNumber(r.Baseline.Median) + " ms in the same run. Both scan the time index's " +
		"summaries of every meeting started in the 30 days; the zone adds one bucket computation per bucket, not per " +
		"meeting, and the usage summary four varints per meeting. What would meet it: quarter-hour aggregates per app " +
		"maintained by the projection (every zone's bucket boundaries fall on quarter hours), so that a 30-day report " +
		"reads 2,880 values in any zone." + contention(l)
}

func flushNote(l Lookup, r Row) string {
	return shortBy(r) + " The sink and clickhouse-client insert the same rows into the same server one after the other; " +
		"clickhouse-client sends TSV in large blocks, and the sink's flush also recomputes the duration roll-ups of the " +
		"buckets it touched (BenchmarkSinkFlush reports that share as rollup-s/flush)." + contention(l) +
		" What would meet it: larger insert blocks (more sessions per flush), columnar batches of the native protocol " +
		"instead of row-by-row appends, and inserting the tables of a flush concurrently."
}

func chReportNote(l Lookup, r Row) string {
	return shortBy(r) + " The baseline `SELECT 1` takes " + formatNumber(r.Baseline.Median) + " ms on the same connection." +
		" The report reads 30 rows of the duration roll-up (day rows kept by the sink), so the time is the server's " +
		"per-query cost (FINAL over the roll-up's parts)." + contention(l) + " What would meet it: fewer roll-up parts " +
		"(OPTIMIZE … FINAL on a schedule, or a longer flush age) and an idle server."
}

func chZoneNote(l Lookup, r Row) string {
	return shortBy(r) + " A 30-day report in Asia/Kolkata reads the 30 day rows of offset +05:30 (zone_day_rollups, " +
		"backfilled on the offset's first query before the measured loop), as the UTC report reads 30 UTC day rows " +
		"(docs/adr/0022); before them it read 2,880 quarter-hour rows and 135,000 participant masks, 7.5× the UTC " +
		"time (docs/adr/0018)." + contention(l) + " What would meet it: fewer roll-up parts under FINAL (OPTIMIZE on a " +
		"schedule) and an idle server; if the ratio is far off, check that the benchmark's backfill completed."
}

func memoryNote(l Lookup, r Row) string {
	note := shortBy(r) + " The baseline is " + formatNumber(r.Baseline.Median) + " MiB (" + r.Figure.BaselineName + ")."
	anon, okA := l.Median(serveMetric("anon-intake-MiB", "MiB"))
	file, okF := l.Median(serveMetric("file-intake-MiB", "MiB"))
	if r.Figure.Value.Bench == "Serve" && okA && okF && anon < r.Figure.Target.Limit {
		return note + fmt.Sprintf(" The Go heap is not what is large: after the intake load %s MiB of the resident set "+
			"was anonymous (heap and stacks) and %s MiB file pages. The read models are bbolt files read through mmap, "+
			"and every page a query touched (the 30-day reports and list pages over a year of 1,000,000 meetings touch "+
			"most of the file) stays in RSS until the kernel needs the memory back; those pages are clean and "+
			"reclaimable, so a container limit of 512 MiB would shrink them rather than kill serve. What would meet the "+
			"target as RSS: read models that do not map the whole file (reads through pread and a cache of bounded "+
			"size), or releasing the mapping's pages after large scans (madvise MADV_DONTNEED); daily aggregates and "+
			"list rows kept in the indexes (see the read notes) would also make queries touch far fewer pages.",
			formatNumber(anon), formatNumber(file))
	}
	return note + " What would meet it: bounding the heap (the projection runner's in-memory session state and batch " +
		"sizes, GOMEMLIMIT), and queries that touch fewer pages of the mmap'd read models."
}
