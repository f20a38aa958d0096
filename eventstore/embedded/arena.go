package embedded

import "unsafe"

// arena copies the fields of the records of one read out of the file's
// memory into a few large blocks instead of one allocation per field: a
// ReadAll of 1,000,000 events otherwise allocates about 4,000,000 small
// objects (stream, type, data, metadata), which cost as much to allocate and
// collect as the rest of the read (BenchmarkRebuild/readall in projections).
//
// What it hands out is never written again: byte slices have their capacity
// cut at their length (an append by the caller reallocates), and strings
// point into bytes that nothing else refers to. An event kept by the caller
// keeps its block (at most arenaBlock bytes, or the event's own size) alive.
type arena struct{ buf []byte }

// arenaBlock is the size of an arena's blocks.
const arenaBlock = 64 << 10

// bytes returns a copy of b (nil for an empty b).
func (a *arena) bytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	if cap(a.buf)-len(a.buf) < len(b) {
		a.buf = make([]byte, 0, max(arenaBlock, len(b)))
	}
	n := len(a.buf)
	a.buf = append(a.buf, b...)
	return a.buf[n:len(a.buf):len(a.buf)]
}

// reuse makes a write over what a hands out from its current block: only
// for a caller that no longer refers to any of it (a check that decodes and
// drops each record).
func (a *arena) reuse() { a.buf = a.buf[:0] }

// string returns b as a string.
func (a *arena) string(b []byte) string {
	c := a.bytes(b)
	if c == nil {
		return ""
	}
	return unsafe.String(unsafe.SliceData(c), len(c))
}

// view returns b as a string without copying it, for a call that does not
// keep it (b is the file's memory, valid only during the read transaction).
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
