package mapped

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Releaser releases the mapped pages of one file (see the package
// documentation). A nil *Releaser does nothing. It is safe for concurrent
// use.
type Releaser struct {
	dev, ino uint64
	budget   int64
	page     int64
	statm    *os.File

	mu       sync.Mutex // held by the one release in progress
	floor    atomic.Int64
	releases atomic.Int64
}

// New watches the file at path; budget is the growth of the process's
// file-backed resident memory, in bytes, that triggers a release. A budget
// of 0 or less returns a nil Releaser, which never releases.
func New(path string, budget int64) (*Releaser, error) {
	if budget <= 0 {
		return nil, nil
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return nil, fmt.Errorf("mapped: %w", err)
	}
	statm, err := os.Open("/proc/self/statm")
	if err != nil {
		return nil, fmt.Errorf("mapped: %w", err)
	}
	r := &Releaser{dev: st.Dev, ino: st.Ino, budget: budget, page: int64(os.Getpagesize()), statm: statm}
	resident, err := r.fileResident()
	if err != nil {
		_ = statm.Close()
		return nil, err
	}
	r.floor.Store(resident)
	return r, nil
}

// Close releases the Releaser's resources.
func (r *Releaser) Close() error {
	if r == nil {
		return nil
	}
	return r.statm.Close()
}

// Releases returns how many times the file's pages were released.
func (r *Releaser) Releases() int64 {
	if r == nil {
		return 0
	}
	return r.releases.Load()
}

// Check releases the file's mapped pages when the process's file-backed
// resident memory exceeds the level right after the last release by more
// than the budget. The caller must keep the mapping from being replaced
// while Check runs (with bbolt: call it inside a read transaction). Check
// costs one read of /proc/self/statm when nothing is released.
func (r *Releaser) Check() (released bool, err error) {
	if r == nil {
		return false, nil
	}
	resident, err := r.fileResident()
	if err != nil {
		return false, err
	}
	if resident-r.floor.Load() <= r.budget || !r.mu.TryLock() {
		return false, nil
	}
	defer r.mu.Unlock()
	if err := r.release(); err != nil {
		return false, err
	}
	after, err := r.fileResident()
	if err != nil {
		return true, err
	}
	// Pages of other files (the binary, another store) are not released:
	// the next release waits for another budget's worth of growth.
	r.floor.Store(after)
	r.releases.Add(1)
	return true, nil
}

// fileResident returns the process's file-backed (and shared-memory)
// resident bytes: the third field of /proc/self/statm, in pages.
func (r *Releaser) fileResident() (int64, error) {
	var buf [256]byte
	n, err := r.statm.ReadAt(buf[:], 0)
	if n == 0 && err != nil {
		return 0, fmt.Errorf("mapped: read statm: %w", err)
	}
	fields := bytes.Fields(buf[:n])
	if len(fields) < 3 {
		return 0, fmt.Errorf("mapped: statm %q: too few fields", buf[:n])
	}
	pages, err := strconv.ParseInt(string(fields[2]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("mapped: statm: %w", err)
	}
	return pages * r.page, nil
}

// release drops the pages of every shared, read-only mapping of the file.
func (r *Releaser) release() error {
	maps, err := os.Open("/proc/self/maps")
	if err != nil {
		return fmt.Errorf("mapped: %w", err)
	}
	defer maps.Close()
	sc := bufio.NewScanner(maps)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		m, ok := parseMapping(sc.Bytes())
		if !ok || m.dev != r.dev || m.ino != r.ino || !m.shared || m.writable {
			continue
		}
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, m.start, m.end-m.start, unix.MADV_DONTNEED); errno != 0 {
			return fmt.Errorf("mapped: madvise: %w", errno)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("mapped: read maps: %w", err)
	}
	return nil
}

// mapping is one line of /proc/self/maps.
type mapping struct {
	start, end       uintptr
	shared, writable bool
	dev, ino         uint64
}

// parseMapping parses "start-end perms offset major:minor inode [path]".
func parseMapping(line []byte) (mapping, bool) {
	var m mapping
	f := bytes.Fields(line)
	if len(f) < 5 {
		return m, false
	}
	lo, hi, ok := bytes.Cut(f[0], []byte("-"))
	if !ok {
		return m, false
	}
	start, err1 := strconv.ParseUint(string(lo), 16, 64)
	end, err2 := strconv.ParseUint(string(hi), 16, 64)
	if err1 != nil || err2 != nil || end <= start || len(f[1]) != 4 {
		return m, false
	}
	major, minor, ok := bytes.Cut(f[3], []byte(":"))
	if !ok {
		return m, false
	}
	maj, err1 := strconv.ParseUint(string(major), 16, 32)
	mnr, err2 := strconv.ParseUint(string(minor), 16, 32)
	ino, err3 := strconv.ParseUint(string(f[4]), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return m, false
	}
	m.start, m.end = uintptr(start), uintptr(end)
	m.writable, m.shared = f[1][1] == 'w', f[1][3] == 's'
	m.dev, m.ino = unix.Mkdev(uint32(maj), uint32(mnr)), ino
	return m, true
}
