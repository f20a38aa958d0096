package embedded_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
)

const fsizeEnv = "EMBEDDED_TEST_FSIZE_DIR"

// TestFileSizeLimit runs appends in a child process whose file size limit
// (RLIMIT_FSIZE) makes the kernel refuse to grow the log, as a full disk
// would: the error must be ErrUnavailable wrapping the errno, and the log
// must still hold every acknowledged append.
func TestFileSizeLimit(t *testing.T) {
	if dir := os.Getenv(fsizeEnv); dir != "" {
		fillUnderLimit(t, dir)
		return
	}
	if testing.Short() {
		t.Skip("spawns a process")
	}
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestFileSizeLimit$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), fsizeEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var acked int
	var msg string
	for _, line := range strings.Split(string(out), "\n") {
		if _, err := fmt.Sscanf(line, "acked %d", &acked); err == nil {
			msg = line
		}
	}
	if msg == "" {
		t.Fatalf("child printed no result:\n%s", out)
	}
	t.Log(msg)
	s := open(t, embedded.Config{Dir: dir})
	st, err := s.Stats(t.Context(), eventstore.Filter{})
	if err != nil || st.Events != uint64(acked) {
		t.Fatalf("stats after the failure: %+v, %v; %d appends were acknowledged", st, err, acked)
	}
}

func fillUnderLimit(t *testing.T, dir string) {
	signal.Ignore(syscall.SIGXFSZ) // get EFBIG instead of being killed
	s, err := embedded.Open(t.Context(), embedded.Config{Dir: dir}, nil)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	// Bound the file a little above its size now: Open's own writes are done.
	fi, err := os.Stat(dir + "/" + embedded.FileName)
	if err != nil {
		t.Fatal(err)
	}
	limit := uint64(fi.Size()) + 1<<20
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
		t.Skipf("setrlimit: %v", err)
	}
	data := []byte(`{"pad":"` + strings.Repeat("x", 4000) + `"}`)
	for i := range 1000 {
		_, err := s.Append(t.Context(), "s", eventstore.Any, eventstore.Event{ID: uuid.New(), Type: "test.v1", Data: data})
		if err != nil {
			// bbolt flattens the errno of a failed resize into its message.
			if !errors.Is(err, eventstore.ErrUnavailable) || !strings.Contains(err.Error(), syscall.EFBIG.Error()) {
				t.Fatalf("append past the file size limit: %v; want ErrUnavailable with the cause (EFBIG)", err)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			fmt.Printf("acked %d, then: %v\n", i, err)
			return
		}
	}
	t.Fatal("1000 appends of 4 KB fit under a 1 MiB limit")
}
