package api_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/api"
	"github.com/meetingd/meetingd/intake"
)

// TestRunStopsWhenCancelledAtOnce: a Run whose ctx ends before the server
// has started serving (a test failing right after starting it, a SIGTERM at
// start-up) returns promptly. fiber's Shutdown closes only the listeners the
// server has registered, so Run used to wait forever for a server that went
// on serving.
func TestRunStopsWhenCancelledAtOnce(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for i := range 20 {
		store := newMemStore()
		in, err := intake.New(intake.Config{}, store, log)
		if err != nil {
			t.Fatal(err)
		}
		reg := prometheus.NewRegistry()
		srv, err := api.New(api.Config{WebhookUser: hookUser, WebhookPassword: hookPass},
			api.Deps{Intake: in, Events: store, Registry: reg, Gatherer: reg}, log)
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		done := make(chan error, 1)
		go func() { done <- srv.Run(ctx, ln) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("round %d: Run: %v", i, err)
			}
		case <-time.After(serverStopBound):
			_ = ln.Close()
			t.Fatalf("round %d: Run did not return within %s of its ctx ending", i, serverStopBound)
		}
	}
}
