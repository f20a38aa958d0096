package main

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"path/filepath"

	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/intake"
	"github.com/meetingd/meetingd/projections"

	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/privacy"
	"github.com/meetingd/meetingd/privacy/envelope"
)

// openKeyring opens the keyring of the data subjects' keys, DataDir/keys.ring
// (created on first use), and the envelope that seals and opens the
// personal data of the log with it (PRIVACY.md). With a KurrentDB log it
// returns neither, and the log is written as before: a data directory is
// disposable there (read models folded afresh), and a keyring in it would
// lose every key with it; an external privacy.KeyStore is the way (not
// built yet, PRIVACY.md).
func openKeyring(cfg config) (*privacy.Embedded, *envelope.Envelope, error) {
	if cfg.EventStore != "embedded" {
		return nil, nil, nil
	}
	ring, err := privacy.OpenEmbedded(cfg.DataDir)
	if err != nil {
		return nil, nil, fmt.Errorf("open the keyring in %s: %w", cfg.DataDir, err)
	}
	return ring, envelope.New(ring), nil
}

// sealLog migrates an embedded log written before sealing, in place and
// resumably (embedded.Rewrite with envelope.SealRecord), before the store
// is opened; a log migrated already costs one read of its meta bucket. A
// KurrentDB log is not rewritten (its events are immutable: PRIVACY.md).
func sealLog(ctx context.Context, cfg config, env *envelope.Envelope, log *slog.Logger) error {
	if cfg.EventStore != "embedded" || env == nil {
		return nil
	}
	dir := filepath.Join(cfg.DataDir, "eventstore")
	opts := embedded.RewriteOptions{Log: log.With("component", "eventstore")}
	_, err := embedded.Rewrite(ctx, dir, envelope.RewriteName, env.SealRecord, opts)
	if errors.Is(err, embedded.ErrNeedsUpgrade) {
		// Format 1: Open upgrades it, then the rewrite runs.
		s, oerr := embedded.Open(ctx, embedded.Config{Dir: dir}, log)
		if oerr != nil {
			return fmt.Errorf("upgrade the event log before sealing it: %w", oerr)
		}
		if oerr := s.Close(); oerr != nil {
			return fmt.Errorf("upgrade the event log before sealing it: %w", oerr)
		}
		_, err = embedded.Rewrite(ctx, dir, envelope.RewriteName, env.SealRecord, opts)
	}
	if err != nil {
		return fmt.Errorf("seal the personal data of the event log in %s: %w", dir, err)
	}
	return nil
}

// logRW is the part of the log that the plans, the jobs and /v1 read and
// write: the store itself, or the store seen through the envelope.
type logRW interface {
	Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.Event) (eventstore.AppendResult, error)
	ReadStream(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error]
	Limits() eventstore.Limits
}

// sealing returns what the intake, the projections and the other readers
// and writers use: the envelope's, or nothing (the log as it is).
func sealing(store logRW, env *envelope.Envelope) (logRW, intake.Sealer, projections.Opener) {
	if env == nil {
		return store, nil, nil
	}
	return envelope.NewLog(store, env), env, env
}
