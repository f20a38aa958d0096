package clickhousetest

import (
	"context"
	"time"
)

// contextWithTimeout is for cleanups, which run after the test's context
// has ended.
func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
