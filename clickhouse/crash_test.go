package clickhouse_test

import (
	"context"
	"errors"
	"iter"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/meetingd/meetingd/clickhouse"
	"github.com/meetingd/meetingd/clickhouse/clickhousetest"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/projections/readmodel"
	"github.com/meetingd/meetingd/reports"
)

// dieAfterAck is a sink that lets the process "die" right after ClickHouse
// acknowledged its n-th batch, before the runner commits the checkpoint.
type dieAfterAck struct {
	projections.Sink
	n    int
	die  context.CancelFunc
	seen int
}

func (d *dieAfterAck) Write(ctx context.Context, b projections.Batch) error {
	if d.seen >= d.n {
		return errors.New("process is dead")
	}
	if err := d.Sink.Write(ctx, b); err != nil {
		return err
	}
	if d.seen++; d.seen == d.n {
		d.die()
		return errors.New("process died after ClickHouse acknowledged")
	}
	return nil
}

// dieBeforeHeads is a connection on which the process "dies" when the n-th
// flush has inserted its rows but not yet committed them in session_versions.
type dieBeforeHeads struct {
	driver.Conn
	n    int32
	die  context.CancelFunc
	rows atomic.Int32 // flushes that inserted their meetings rows
	dead atomic.Bool
}

func (d *dieBeforeHeads) PrepareBatch(ctx context.Context, q string, opts ...driver.PrepareBatchOption) (driver.Batch, error) {
	if d.dead.Load() {
		return nil, errors.New("process is dead")
	}
	if strings.HasPrefix(q, "INSERT INTO meetings ") {
		d.rows.Add(1)
	}
	if strings.HasPrefix(q, "INSERT INTO session_versions ") && d.rows.Load() == d.n {
		d.dead.Store(true)
		d.die()
		return nil, errors.New("process died between the rows and the heads")
	}
	return d.Conn.PrepareBatch(ctx, q, opts...)
}

// upTo is the event log as it was when it ended at position limit.
type upTo struct {
	*embedded.Store
	limit eventstore.Position
}

func (u upTo) ReadAll(ctx context.Context, from eventstore.Position, f eventstore.Filter) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		for ev, err := range u.Store.ReadAll(ctx, from, f) {
			if err == nil && ev.Position.Compare(u.limit) > 0 {
				return
			}
			if !yield(ev, err) || err != nil {
				return
			}
		}
	}
}

// TestCrashRetry: the sink flushes, the process dies before the checkpoint
// (after ClickHouse acknowledged the batch, or half-way through the flush:
// rows stored, roll-ups or heads not), restarts, flushes again — first up to an older
// position than the one it died at, then to the end — and every report then
// equals the embedded store's, with no row counted twice.
func TestCrashRetry(t *testing.T) {
	t.Parallel()
	evs, keys := corpus(7, 80)
	for _, mode := range []string{"after ack", "before heads", "before roll-ups"} {
		t.Run(mode, func(t *testing.T) {
			log := openLog(t, evs)
			var positions []eventstore.Position
			for ev, err := range log.ReadAll(t.Context(), eventstore.Start, eventstore.Filter{}) {
				if err != nil {
					t.Fatal(err)
				}
				positions = append(positions, ev.Position)
			}
			at := func(frac float64) upTo { return upTo{log, positions[int(frac*float64(len(positions)))]} }
			conn, _ := clickhousetest.Migrated(t)
			models, err := readmodel.Open(t.Context(), readmodel.Config{Dir: t.TempDir()}, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = models.Close() })
			cfg := clickhouse.SinkConfig{FlushAge: time.Millisecond}

			// First life: catches up to 50%, then dies in its flush up to 80%.
			life, die := context.WithCancel(t.Context())
			defer die()
			var sink projections.Sink
			switch mode {
			case "after ack":
				s, err := clickhouse.NewSink(cfg, conn, nil)
				if err != nil {
					t.Fatal(err)
				}
				sink = &dieAfterAck{Sink: s, n: 2, die: die}
			case "before roll-ups":
				s, err := clickhouse.NewSink(cfg, &dieBeforeRollups{Conn: conn, n: 2, die: die}, nil)
				if err != nil {
					t.Fatal(err)
				}
				sink = s
			default:
				s, err := clickhouse.NewSink(cfg, &dieBeforeHeads{Conn: conn, n: 2, die: die}, nil)
				if err != nil {
					t.Fatal(err)
				}
				sink = s
			}
			for i, frac := range []float64{0.5, 0.8} {
				r1, err := projections.New(projections.Config{}, at(frac), models, []projections.Sink{sink}, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				err = r1.CatchUp(life)
				if i == 0 && err != nil {
					t.Fatal(err)
				}
				if i == 1 && err == nil {
					t.Fatal("the first life did not die")
				}
			}
			cp, err := models.Checkpoint(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			// ClickHouse holds rows that the checkpoint does not cover.
			var newest uint64
			if err := conn.QueryRow(t.Context(), "SELECT max(version) FROM meetings").Scan(&newest); err != nil {
				t.Fatal(err)
			}
			if newest <= cp.Position.Commit {
				t.Fatalf("ClickHouse's newest version %d is not past the checkpoint %d: nothing to re-flush", newest, cp.Position.Commit)
			}

			// Second life: a new sink, from the checkpoint to 65% (older than
			// what the first life flushed), then to the end.
			s2, err := clickhouse.NewSink(cfg, conn, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, src := range []projections.Log{at(0.65), log} {
				r2, err := projections.New(projections.Config{}, src, models, []projections.Sink{s2}, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := r2.CatchUp(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			sameReports(t, models, clickhouse.NewReports(conn), keys)
			checkCounts(t, conn, models, keys)
		})
	}
}

// checkCounts checks that the BI views hold each meeting and each
// participant row once.
func checkCounts(t *testing.T, conn driver.Conn, want reports.Store, keys []reports.SessionKey) {
	t.Helper()
	var rows, intervals int
	for _, k := range keys {
		m, err := want.Meeting(t.Context(), k)
		if err != nil {
			t.Fatal(err)
		}
		rows += len(m.Participants)
		for _, p := range m.Participants {
			intervals += len(p.Intervals)
		}
	}
	for _, c := range []struct {
		q    string
		want int
	}{
		{"SELECT count() FROM meetings_v", len(keys)},
		{"SELECT uniqExact(app_id, session_id) FROM meetings_v", len(keys)},
		{"SELECT count() FROM attendance_v", rows},
		{"SELECT count() FROM intervals_v", intervals},
	} {
		var n uint64
		if err := conn.QueryRow(t.Context(), c.q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", c.q, err)
		}
		if int(n) != c.want {
			t.Errorf("%s = %d, want %d", c.q, n, c.want)
		}
	}
}
