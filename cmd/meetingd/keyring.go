package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/privacy"
	"github.com/meetingd/meetingd/privacy/envelope"
)

// openKeyring opens the keyring of the data subjects' keys, DataDir/keys.ring
// (created on first use), and the envelope that seals and opens the
// personal data of the log with it (PRIVACY.md).
func openKeyring(cfg config) (*privacy.Embedded, *envelope.Envelope, error) {
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
	if cfg.EventStore != "embedded" {
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
