package mapped

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseMapping(t *testing.T) {
	for _, tc := range []struct {
		line string
		want mapping
		ok   bool
	}{
		{"7f00a0000000-7f00a4000000 r--s 00000000 fd:01 1234567 /data/readmodels.db",
			mapping{start: 0x7f00a0000000, end: 0x7f00a4000000, shared: true, dev: unix.Mkdev(0xfd, 1), ino: 1234567}, true},
		{"7f00a0000000-7f00a4000000 rw-p 00001000 08:10 42 /path with spaces/f",
			mapping{start: 0x7f00a0000000, end: 0x7f00a4000000, writable: true, dev: unix.Mkdev(8, 0x10), ino: 42}, true},
		{"7ffd1000-7ffd2000 r-xp 00000000 00:00 0", mapping{start: 0x7ffd1000, end: 0x7ffd2000, dev: 0, ino: 0}, true},
		{"7ffd1000-7ffd2000 r-xp 00000000 00:00", mapping{}, false},
		{"7ffd2000-7ffd1000 r--s 00000000 fd:01 5 /f", mapping{}, false}, // end before start
		{"zz-7ffd2000 r--s 00000000 fd:01 5 /f", mapping{}, false},
		{"1000-2000 r--s 00000000 fd01 5 /f", mapping{}, false},
		{"1000-2000 r--sx 00000000 fd:01 5 /f", mapping{}, false},
		{"", mapping{}, false},
	} {
		got, ok := parseMapping([]byte(tc.line))
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("parseMapping(%q) = %+v, %v; want %+v, %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
}

// mapFile writes size bytes of a pattern to a new file and maps it shared
// and read-only, as bbolt does.
func mapFile(t *testing.T, size int) (string, []byte, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f")
	content := bytes.Repeat([]byte("meetingd"), size/8)
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Munmap(b) })
	return path, b, content
}

func touch(b []byte) (sum byte) {
	for i := 0; i < len(b); i += os.Getpagesize() {
		sum += b[i]
	}
	return sum
}

func TestCheckReleasesTheFilesPagesOnly(t *testing.T) {
	const size = 64 << 20
	path, b, content := mapFile(t, size)
	r, err := New(path, 16<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	// A private, writable mapping of the same file holds a change that a
	// release must not discard.
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	priv, err := unix.Mmap(int(f.Fd()), 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(priv)
	priv[0] = 'X'

	if released, err := r.Check(); err != nil || released {
		t.Fatalf("Check before the file was read = %v, %v; want no release", released, err)
	}
	touch(b)
	before, err := r.fileResident()
	if err != nil {
		t.Fatal(err)
	}
	released, err := r.Check()
	if err != nil || !released {
		t.Fatalf("Check after reading %d MiB = %v, %v; want a release", size>>20, released, err)
	}
	after, err := r.fileResident()
	if err != nil {
		t.Fatal(err)
	}
	if before-after < size*3/4 {
		t.Errorf("file-backed resident memory %d → %d MiB; want it %d MiB lower", before>>20, after>>20, size>>20)
	}
	if r.Releases() != 1 {
		t.Errorf("Releases() = %d, want 1", r.Releases())
	}
	if priv[0] != 'X' {
		t.Error("the release discarded a private mapping's change")
	}
	// Nothing more to release until the budget is exceeded again.
	if released, err := r.Check(); err != nil || released {
		t.Fatalf("second Check = %v, %v; want no release", released, err)
	}
	// The pages map again, with the file's bytes, and count again.
	if !bytes.Equal(b, content) {
		t.Error("the shared mapping reads other bytes after the release")
	}
	if released, err := r.Check(); err != nil || !released {
		t.Fatalf("Check after reading the file again = %v, %v; want a release", released, err)
	}
}

func TestNoBudgetNeverReleases(t *testing.T) {
	path, b, _ := mapFile(t, 8<<20)
	for _, budget := range []int64{0, -1} {
		r, err := New(path, budget)
		if err != nil || r != nil {
			t.Fatalf("New(budget %d) = %v, %v; want nil, nil", budget, r, err)
		}
		touch(b)
		if released, err := r.Check(); released || err != nil {
			t.Errorf("nil Releaser Check = %v, %v", released, err)
		}
		if r.Releases() != 0 || r.Close() != nil {
			t.Error("nil Releaser")
		}
	}
	if _, err := New(filepath.Join(t.TempDir(), "missing"), 1); err == nil {
		t.Error("New of a missing file succeeded")
	}
}
