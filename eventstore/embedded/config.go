package embedded

import (
	"errors"
	"fmt"
	"time"

	"github.com/meetingd/meetingd/eventstore"
)

// FileName is the name of the event log's file inside Config.Dir. The read
// models keep their own files beside it.
const FileName = "events.db"

// MaxStreamNameBytes is the longest stream name the store accepts (the
// contract's eventstore.MaxStreamNameBytes); longer names fail with
// eventstore.ErrInvalidEvent.
const MaxStreamNameBytes = eventstore.MaxStreamNameBytes

// Config configures a Store. The zero value of every field but Dir selects a
// default (see setDefaults).
type Config struct {
	// Dir is the directory that holds the event log (Dir/events.db). It is
	// created if missing. Required.
	Dir string

	// LockTimeout bounds the wait for the exclusive lock on the log file,
	// which another process that has the same Dir open holds. Default 2s.
	LockTimeout time.Duration

	// MaxBatchEvents caps the number of events that one commit gathers from
	// concurrent appends (an append is never split across commits, so a
	// single larger append still commits alone). Every commit costs one
	// round of fsyncs whatever its size. Default 1024.
	MaxBatchEvents int

	// ReadBatchSize is the number of events (or, for Stats, streams) read per
	// read transaction by ReadStream, ReadAll, SubscribeAll and Stats; no read
	// transaction outlives one batch, so a slow consumer never blocks the file
	// from growing. Default 256.
	ReadBatchSize int

	// MaxFileSize caps the size of the log file in bytes: an append that
	// would grow the file past it fails with eventstore.ErrUnavailable, as
	// it would on a full disk. Zero means no cap.
	MaxFileSize int64

	// MaxAppendBytes bounds one append's eventstore.AppendSize (its events'
	// data, metadata and types): a larger append fails with
	// eventstore.ErrInvalidEvent. Zero means no bound (the log has none of
	// its own); set it to match a KurrentDB cluster's MaxAppendSize.
	MaxAppendBytes int

	// Now returns the time recorded on appended events (RecordedAt); Open
	// also paces the log of a file-format upgrade by it. Default time.Now.
	Now func() time.Time
}

func (c *Config) setDefaults() {
	if c.LockTimeout == 0 {
		c.LockTimeout = 2 * time.Second
	}
	if c.MaxBatchEvents == 0 {
		c.MaxBatchEvents = 1024
	}
	if c.ReadBatchSize == 0 {
		c.ReadBatchSize = 256
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("no log directory: Dir is required"))
	}
	if c.LockTimeout < 0 {
		errs = append(errs, fmt.Errorf("LockTimeout %s is negative", c.LockTimeout))
	}
	if c.MaxBatchEvents < 0 {
		errs = append(errs, fmt.Errorf("MaxBatchEvents %d is negative", c.MaxBatchEvents))
	}
	if c.ReadBatchSize < 0 {
		errs = append(errs, fmt.Errorf("ReadBatchSize %d is negative", c.ReadBatchSize))
	}
	if c.MaxAppendBytes < 0 {
		errs = append(errs, fmt.Errorf("MaxAppendBytes %d is negative", c.MaxAppendBytes))
	}
	if c.MaxFileSize < 0 {
		errs = append(errs, fmt.Errorf("MaxFileSize %d is negative", c.MaxFileSize))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("embedded config: %w", err)
	}
	return nil
}
