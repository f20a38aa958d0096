package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/eventstore/esdb"
)

// eventStore is the event log with a readiness check.
type eventStore interface {
	eventstore.Store
	eventstore.StreamDeleter
	Ping(ctx context.Context) error
	Limits() eventstore.Limits
}

// openStore opens the configured event log: the embedded store in
// DataDir/eventstore, or an EventStoreDB/KurrentDB cluster whose connection
// string carries its TLS settings and credentials.
func openStore(ctx context.Context, cfg config, log *slog.Logger) (eventStore, error) {
	log = log.With("component", "eventstore")
	if cfg.EventStore == "embedded" {
		s, err := embedded.Open(ctx, embedded.Config{Dir: filepath.Join(cfg.DataDir, "eventstore")}, log)
		if err != nil {
			return nil, fmt.Errorf("open embedded event store in %s: %w", cfg.DataDir, err)
		}
		return s, nil
	}
	s, err := esdb.Open(ctx, esdb.Config{ConnectionString: cfg.EventStore, MaxAppendBytes: cfg.MaxAppendBytes}, log)
	if err != nil {
		return nil, fmt.Errorf("open EventStoreDB event store: %w", err)
	}
	return s, nil
}
