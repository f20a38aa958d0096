package intake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"strconv"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
)

// MigrationStore is what MigrateQuarantine reads and writes.
type MigrationStore interface {
	Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.Event) (eventstore.AppendResult, error)
	ReadStream(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error]
}

// migratedStream records how far LegacyQuarantineStream has been copied:
// each event's data is {"through": revision}. No escaped app id spells it.
const migratedStream = domain.QuarantinePrefix + "%migrated"

// MigrateQuarantine copies the records of LegacyQuarantineStream (logs
// written before quarantine streams were per app) to their apps' streams,
// data and metadata unchanged, each under an id derived from its old one
// (UUIDv5), and returns how many it copied. It is idempotent: a copy already
// made is answered as a duplicate, and a marker stream remembers the
// last revision copied, so that later runs read only what is new (records
// that an older meetingd appended meanwhile). A log without the legacy
// stream costs one read.
func MigrateQuarantine(ctx context.Context, store MigrationStore, log *slog.Logger) (int, error) {
	from, err := migratedThrough(ctx, store)
	if err != nil {
		return 0, err
	}
	copied, last, read := 0, uint64(0), false
	for ev, err := range store.ReadStream(ctx, LegacyQuarantineStream, from) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			break
		}
		if err != nil {
			return copied, fmt.Errorf("migrate quarantine: %w", err)
		}
		var rec struct {
			AppID string `json:"app_id"`
		}
		if err := json.Unmarshal(ev.Data, &rec); err != nil {
			log.Warn("legacy quarantine record is not JSON: kept with the unknown apps'", "event_id", ev.ID, "error", err)
		}
		// A new id derived from the old one: the contract lets a store
		// dedupe ids across streams, which would drop the copy.
		res, err := store.Append(ctx, domain.QuarantineStream(rec.AppID), eventstore.Any, eventstore.Event{
			ID: uuid.NewSHA1(migratedNamespace, ev.ID[:]), Type: ev.Type, Data: ev.Data, Metadata: ev.Metadata,
		})
		if err != nil {
			return copied, fmt.Errorf("migrate quarantine record %s: %w", ev.ID, err)
		}
		if !res.Duplicate {
			copied++
		}
		last, read = ev.Revision, true
	}
	if !read {
		return 0, nil
	}
	mark := strconv.FormatUint(last, 10)
	if _, err := store.Append(ctx, migratedStream, eventstore.Any, eventstore.Event{
		ID: uuid.NewSHA1(quarantineNamespace, []byte("migrated through "+mark)), Type: typeMigrated,
		Data: []byte(`{"through":` + mark + `}`),
	}); err != nil {
		return copied, fmt.Errorf("migrate quarantine: mark: %w", err)
	}
	if copied > 0 {
		log.Info("quarantine records moved to per-app streams", "records", copied, "through_revision", last)
	}
	return copied, nil
}

// migratedNamespace is the UUIDv5 namespace of the copies' ids.
var migratedNamespace = uuid.MustParse("5d0f6a2e-8c47-5b1e-9a63-6d6967726174")

// typeMigrated is the event type of migratedStream's markers.
const typeMigrated = "intake.quarantine_migrated.v1"

// migratedThrough returns the legacy revision to copy from: one past the
// highest marker, or 0.
func migratedThrough(ctx context.Context, store MigrationStore) (uint64, error) {
	from := uint64(0)
	for ev, err := range store.ReadStream(ctx, migratedStream, 0) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("migrate quarantine: read marker: %w", err)
		}
		var m struct {
			Through uint64 `json:"through"`
		}
		if err := json.Unmarshal(ev.Data, &m); err != nil {
			return 0, fmt.Errorf("migrate quarantine: marker %s: %w", ev.ID, err)
		}
		from = max(from, m.Through+1)
	}
	return from, nil
}
