//go:build !linux

package mapped

// Releaser does nothing outside Linux.
type Releaser struct{}

// New returns a nil Releaser: outside Linux nothing is released.
func New(path string, budget int64) (*Releaser, error) { return nil, nil }

// Close does nothing.
func (r *Releaser) Close() error { return nil }

// Releases returns 0.
func (r *Releaser) Releases() int64 { return 0 }

// Check does nothing.
func (r *Releaser) Check() (bool, error) { return false, nil }
