package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/meetingd/meetingd/internal/corpus"
	"github.com/meetingd/meetingd/internal/loadgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) error {
	env := func(name string) string { v, _ := lookupEnv(name); return v }
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg      loadgen.Config
		sessions = fs.Int("sessions", 1000, "sessions (meetings and calls) to generate")
		seed     = fs.Uint64("seed", 1, "seed of the generated traffic")
		apps     = fs.Int("apps", 3, "CometChat apps the sessions are spread over")
		window   = fs.Int("window", 200, "sessions whose webhooks are interleaved (shuffled) together")
		dup      = fs.Float64("dup", 0.1, "share of webhooks delivered more than once (0 to 1)")
		asJSON   = fs.Bool("json", false, "print the result as JSON")
		verbose  = fs.Bool("v", false, "log progress to stderr")
	)
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080/webhooks/cometchat", "meetingd's webhook endpoint")
	fs.StringVar(&cfg.User, "user", env("MEETINGD_WEBHOOK_USER"), "HTTP Basic user (default $MEETINGD_WEBHOOK_USER)")
	fs.StringVar(&cfg.Password, "password", env("MEETINGD_WEBHOOK_PASSWORD"), "HTTP Basic password (default $MEETINGD_WEBHOOK_PASSWORD)")
	fs.Float64Var(&cfg.Rate, "rate", 0, "target webhooks per second; 0 sends as fast as the clients can")
	fs.IntVar(&cfg.Clients, "clients", 64, "concurrent HTTP clients")
	fs.DurationVar(&cfg.Timeout, "timeout", 10*time.Second, "timeout of one request")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var errs []error
	if *sessions < 1 {
		errs = append(errs, fmt.Errorf("-sessions %d: want at least 1", *sessions))
	}
	if *window < 1 {
		errs = append(errs, fmt.Errorf("-window %d: want at least 1", *window))
	}
	if *dup < 0 || *dup > 1 {
		errs = append(errs, fmt.Errorf("-dup %v: want 0 to 1", *dup))
	}
	if cfg.Clients < 1 {
		errs = append(errs, fmt.Errorf("-clients %d: want at least 1", cfg.Clients))
	}
	gen, err := corpus.New(corpus.Config{Sessions: *sessions, Seed: *seed, Apps: *apps})
	if err != nil {
		errs = append(errs, err)
	}
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}

	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	log.Info("loadgen starting", "url", cfg.URL, "sessions", *sessions, "rate", cfg.Rate, "clients", cfg.Clients)
	res, err := loadgen.Run(ctx, cfg, bodies(gen.Stream(*sessions, *window, *dup, *seed)), log)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return res.WriteText(stdout)
}

// bodies keeps the bodies of deliveries.
func bodies(ds iter.Seq2[corpus.Delivery, error]) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		for d, err := range ds {
			if !yield(d.Body, err) {
				return
			}
		}
	}
}
