// Package mapped bounds how much of a memory-mapped file stays in a
// process's resident set.
//
// Stores such as bbolt read their file through a shared, read-only mmap.
// Every page a query touches is mapped into the process on a page fault,
// and Linux maps up to 16 neighbouring pages with it when they are in the
// page cache ("fault-around", 64 KiB, whatever madvise(MADV_RANDOM) says):
// scattered reads of a file that is in the page cache map sixteen times what
// they read. Those pages stay mapped, and counted in the process's RSS,
// until the kernel needs the memory back. A Releaser watches the process's
// file-backed resident memory and, once it has grown by more than a budget
// since the last release, drops the file's mapped pages from the process
// with madvise(MADV_DONTNEED). The pages stay in the kernel's page cache: a
// later read maps them again with a minor fault, without I/O, and sees the
// same bytes (the mapping is shared and read-only, so nothing is lost).
//
// Only mappings of the watched file (matched by device and inode) that are
// shared and not writable are ever released. On systems other than Linux a
// Releaser does nothing.
package mapped
