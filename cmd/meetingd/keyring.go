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
	"github.com/meetingd/meetingd/privacy/esdbkeys"
)

// openSealedLog opens the event log and the keyring of the data subjects'
// keys, and the envelope that seals and opens the personal data of the log
// with it (PRIVACY.md). With the embedded log the keyring is the file
// DataDir/keys.ring (created on first use), opened first, and a log written
// before sealing is migrated before the store opens (sealLog). With a
// KurrentDB log the keys live in the cluster beside the events
// (privacy/esdbkeys, ADR 0026): a data directory is disposable there, and a
// keyring in it would lose every key with it. closeAll closes the store and
// the keyring.
func openSealedLog(ctx context.Context, cfg config, log *slog.Logger) (store eventStore, ring privacy.Ring, env *envelope.Envelope, closeAll func() error, err error) {
	var closers []func() error
	closeAll = func() error {
		var errs []error
		for i := len(closers) - 1; i >= 0; i-- {
			errs = append(errs, closers[i]())
		}
		closers = nil
		return errors.Join(errs...)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, closeAll())
		}
	}()
	if cfg.EventStore == "embedded" {
		emb, err := privacy.OpenEmbedded(cfg.DataDir)
		if err != nil {
			return nil, nil, nil, closeAll, fmt.Errorf("open the keyring in %s: %w", cfg.DataDir, err)
		}
		closers = append(closers, emb.Close)
		ring, env = emb, envelope.New(emb)
		if err := sealLog(ctx, cfg, env, log); err != nil {
			return nil, nil, nil, closeAll, err
		}
	}
	if store, err = openStore(ctx, cfg, log); err != nil {
		return nil, nil, nil, closeAll, err
	}
	closers = append(closers, store.Close)
	if ring == nil {
		ks, ok := store.(esdbkeys.Log)
		if !ok {
			return nil, nil, nil, closeAll, fmt.Errorf("the event log %T cannot keep keys", store)
		}
		ext, err := privacy.OpenExternal(ctx, esdbkeys.New(ks, ""))
		if err != nil {
			return nil, nil, nil, closeAll, fmt.Errorf("open the keyring in the event log (streams %s*): %w", esdbkeys.Prefix, err)
		}
		ring, env = ext, envelope.New(ext)
	}
	return store, ring, env, closeAll, nil
}

// sealLog migrates an embedded log written before sealing, in place and
// resumably (embedded.Rewrite with envelope.SealRecord), before the store
// is opened; a log migrated already costs one read of its meta bucket. A
// KurrentDB log is not rewritten (its events are immutable: PRIVACY.md).
func sealLog(ctx context.Context, cfg config, env *envelope.Envelope, log *slog.Logger) error {
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
// and writers use: the envelope's.
func sealing(store logRW, env *envelope.Envelope) (logRW, intake.Sealer, projections.Opener) {
	return envelope.NewLog(store, env), env, env
}
