package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
)

// eventStore is the event log with a readiness check.
type eventStore interface {
	eventstore.Store
	Ping(ctx context.Context) error
}

func openStore(ctx context.Context, cfg config, log *slog.Logger) (eventStore, error) {
	if cfg.EventStore == "embedded" {
		s, err := embedded.Open(ctx, embedded.Config{Dir: filepath.Join(cfg.DataDir, "eventstore")}, log)
		if err != nil {
			return nil, fmt.Errorf("open embedded event store in %s: %w", cfg.DataDir, err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("MEETINGD_EVENTSTORE: the esdb adapter is not wired yet")
}
