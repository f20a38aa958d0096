package projections

import (
	"context"
	"fmt"
)

// exclusive is a function run by Run between two batches.
type exclusive struct {
	fn   func(ctx context.Context) error
	done chan error
}

// Exclusive runs fn while no batch is being folded or written, then drops
// the runner's cached fold state, so that the next events of every session
// fold onto what the state store then holds. It is how a component that
// rewrites read models behind the runner's back (an erasure) keeps the runner
// from writing the old state over its rewrite. While Run is running, fn runs
// in Run's goroutine after the batch in hand is flushed; otherwise (no Run:
// a CLI, a test) it runs in the caller's, and must then not overlap CatchUp
// or Rebuild. It returns fn's error, or ctx's if ctx ends first.
func (r *Runner) Exclusive(ctx context.Context, fn func(ctx context.Context) error) error {
	job := exclusive{fn: fn, done: make(chan error, 1)}
	if !r.running.Load() {
		err := fn(ctx)
		r.cache.Purge()
		return err
	}
	select {
	case r.excl <- job:
	case <-ctx.Done():
		return fmt.Errorf("projections: exclusive: %w", ctx.Err())
	}
	select {
	case err := <-job.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("projections: exclusive: %w", ctx.Err())
	}
}

// runExclusive runs job in Run after flushing the batch in hand.
func (r *Runner) runExclusive(ctx context.Context, job exclusive, flush func(context.Context) error) error {
	if err := flush(ctx); err != nil {
		job.done <- err
		return err
	}
	err := job.fn(ctx)
	r.cache.Purge()
	job.done <- err
	return nil
}
