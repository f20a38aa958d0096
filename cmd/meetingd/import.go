package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/sync/errgroup"

	"github.com/meetingd/meetingd/api"
	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/intake"
	"github.com/meetingd/meetingd/plans"
)

// importWorkers is how many lines are stored concurrently, so that the
// store's group commit shares fsyncs between them.
const importWorkers = 32

// maxRejectsShown bounds the rejected lines listed in the summary.
const maxRejectsShown = 20

type importLine struct {
	no   int
	body []byte
	err  error
}

// importSummary counts what became of an import's lines.
type importSummary struct {
	lines, accepted, duplicate, quarantined, rejected atomic.Int64
	// plans counts the accepted lines that were plans.
	plans atomic.Int64

	mu      sync.Mutex
	rejects []string
}

func (s *importSummary) reject(no int, reason string) {
	s.rejected.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.rejects) < maxRejectsShown {
		s.rejects = append(s.rejects, fmt.Sprintf("line %d: %s", no, reason))
	}
}

func (s *importSummary) print(w io.Writer, name string) {
	fmt.Fprintf(w, "imported %s: %d lines: %d accepted, %d duplicate, %d quarantined, %d rejected\n",
		name, s.lines.Load(), s.accepted.Load(), s.duplicate.Load(), s.quarantined.Load(), s.rejected.Load())
	if n := s.plans.Load(); n > 0 {
		fmt.Fprintf(w, "  of the accepted lines, %d were plans\n", n)
	}
	for _, r := range s.rejects {
		fmt.Fprintln(w, "  rejected", r)
	}
	if n := s.rejected.Load(); n > int64(len(s.rejects)) {
		fmt.Fprintf(w, "  … and %d more rejected lines\n", n-int64(len(s.rejects)))
	}
}

func importCmd(ctx context.Context, args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) error {
	// The file may come before or after the flags.
	var file string
	if len(args) > 0 && (args[0] == "-" || args[0] == "" || args[0][0] != '-') {
		file, args = args[0], args[1:]
	}
	cfg, err := loadConfig("import", false, args, stderr, lookupEnv)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if file == "" {
		return usageError{"usage: meetingd import FILE [flags]   (FILE is JSON Lines, one CometChat webhook or one {\"session_id\",\"app_id\",\"plan\"} per line; - reads stdin)"}
	}
	in, size, err := openInput(file)
	if err != nil {
		return err
	}
	defer in.Close()

	log := quietLogger(stderr)
	store, _, env, closeLog, err := openSealedLog(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeLog()
	planLog, sealer, _ := sealing(store, env)
	svc, err := intake.New(intake.Config{Sealer: sealer}, store, log)
	if err != nil {
		return err
	}
	planSvc, err := plans.New(plans.Config{}, planLog, log)
	if err != nil {
		return err
	}

	var src io.Reader = in
	if f, ok := stderr.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		bar := progressbar.DefaultBytes(size, "importing")
		defer bar.Finish()
		src = io.TeeReader(in, bar)
	}
	var sum importSummary
	err = runImport(ctx, src, svc, planSvc, &sum)
	sum.print(stdout, file)
	return err
}

func openInput(file string) (io.ReadCloser, int64, error) {
	if file == "-" {
		return io.NopCloser(os.Stdin), -1, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, 0, fmt.Errorf("import: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("import: %w", err)
	}
	return f, st.Size(), nil
}

// runImport stores every line of r through svc (webhooks) or plans (plan
// lines, see planLine), concurrently. It stops at the first store failure
// (nothing unacknowledged is counted as stored).
func runImport(ctx context.Context, r io.Reader, svc api.Ingester, plans planSetter, sum *importSummary) error {
	g, gctx := errgroup.WithContext(ctx)
	lines := make(chan importLine, importWorkers*2)
	g.Go(func() error {
		defer close(lines)
		return readLines(gctx, r, lines)
	})
	for range importWorkers {
		g.Go(func() error {
			for l := range lines {
				sum.lines.Add(1)
				if l.err != nil {
					sum.reject(l.no, l.err.Error())
					continue
				}
				if pl, ok := asPlanLine(l.body); ok {
					st, err := importPlan(gctx, plans, pl)
					switch {
					case errors.Is(err, errBadPlanLine):
						sum.reject(l.no, err.Error())
					case err != nil:
						return fmt.Errorf("line %d: %w", l.no, err)
					case st.Duplicate:
						sum.duplicate.Add(1)
					default:
						sum.accepted.Add(1)
						sum.plans.Add(1)
					}
					continue
				}
				res, err := svc.Ingest(gctx, l.body, "import")
				switch {
				case errors.Is(err, cometchat.ErrMalformed):
					sum.reject(l.no, err.Error())
					continue
				case err != nil:
					return fmt.Errorf("line %d: %w", l.no, err)
				}
				switch res.Outcome {
				case intake.Accepted:
					sum.accepted.Add(1)
				case intake.Duplicate:
					sum.duplicate.Add(1)
				case intake.Quarantined:
					sum.quarantined.Add(1)
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// readLines splits r into lines of at most api.BodyLimit bytes; a longer line
// is reported as an error line and skipped. Blank lines are skipped.
func readLines(ctx context.Context, r io.Reader, out chan<- importLine) error {
	br := bufio.NewReaderSize(r, 256<<10)
	for no := 1; ; no++ {
		line, tooLong, err := readLine(br)
		if len(line) > 0 || tooLong {
			l := importLine{no: no, body: line}
			if tooLong {
				l = importLine{no: no, err: fmt.Errorf("%w: line exceeds the limit of %d bytes", cometchat.ErrMalformed, api.BodyLimit)}
			}
			select {
			case out <- l:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("import: read line %d: %w", no, err)
		}
	}
}

// readLine returns the next line without its end; tooLong reports (and
// discards) a line over the body limit.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > api.BodyLimit+2 {
			tooLong, line = true, nil
		} else if !tooLong {
			line = append(line, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
			line = line[:len(line)-1]
		}
		return line, tooLong, err
	}
}
