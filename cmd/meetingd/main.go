package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	// The IANA zone database, embedded (about 450 KB): the reports' ?tz=
	// works in minimal containers without /usr/share/zoneinfo.
	_ "time/tzdata"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	if err != nil {
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "meetingd:", err)
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

const usage = `usage: meetingd <command> [flags]

commands:
  serve          run the service (see 'meetingd serve -h' for flags)
  import FILE    append CometChat webhooks from a JSON Lines file ('-' reads stdin)
  rebuild        drop every read model and fold the whole event log again (serve stopped)
  migrate        apply the ClickHouse schema migrations (MEETINGD_CLICKHOUSE_DSN); serve applies them too

configuration: MEETINGD_* environment variables, each also a flag of serve`

// run dispatches a command. lookupEnv is os.LookupEnv outside tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) error {
	if len(args) == 0 {
		return usageError{usage}
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stderr, lookupEnv)
	case "import":
		return importCmd(ctx, args[1:], stdout, stderr, lookupEnv)
	case "rebuild":
		return rebuildCmd(ctx, args[1:], stdout, stderr, lookupEnv)
	case "migrate":
		return migrateCmd(ctx, args[1:], stdout, stderr, lookupEnv)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q\n\n%s", args[0], usage)}
}
