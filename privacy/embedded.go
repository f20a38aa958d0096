package privacy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// FileName is the embedded keyring's file in the data directory.
const FileName = "keys.ring"

var magic = []byte("meetingd-keyring-1\n")

const (
	recKey       = 1
	recTombstone = 2
	recLen       = 1 + macLen + kidLen + keyLen + 4
	fileHeadLen  = 19 + 32 + 4 // magic, secret, crc
)

// ErrKeyringCorrupt: keys.ring holds a record that does not check.
var ErrKeyringCorrupt = errors.New("privacy: keyring file corrupt")

// Embedded is the Keyring of the embedded store: the file keys.ring of the
// data directory (see the package doc).
type Embedded struct {
	*core
	file *ringFile
}

var _ Ring = (*Embedded)(nil)

// OpenEmbedded opens dir/keys.ring, creating it (with a new random secret,
// and dir) when it does not exist. A record torn by a crash at the end of the file
// (never acknowledged) is cut off; any other damage is ErrKeyringCorrupt.
func OpenEmbedded(dir string) (*Embedded, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("privacy: keyring directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		var secret [32]byte
		if _, err := rand.Read(secret[:]); err != nil {
			return nil, fmt.Errorf("privacy: keyring secret: %w", err)
		}
		e := &Embedded{}
		e.file = &ringFile{path: path}
		e.file.cond = sync.NewCond(&e.file.mu)
		e.core = newCore(secret, e.file)
		if err := e.file.rewrite(e.core); err != nil {
			return nil, err
		}
		return e, nil
	case err != nil:
		return nil, fmt.Errorf("privacy: read keyring: %w", err)
	}
	if len(data) < fileHeadLen || !bytes.Equal(data[:len(magic)], magic) ||
		crc32.ChecksumIEEE(data[:fileHeadLen-4]) != binary.BigEndian.Uint32(data[fileHeadLen-4:]) {
		return nil, fmt.Errorf("%w: %s: bad header", ErrKeyringCorrupt, path)
	}
	var secret [32]byte
	copy(secret[:], data[len(magic):])
	e := &Embedded{}
	e.file = &ringFile{path: path}
	e.file.cond = sync.NewCond(&e.file.mu)
	e.core = newCore(secret, e.file)
	recs := data[fileHeadLen:]
	good := 0
	for off := 0; off+recLen <= len(recs); off += recLen {
		r := recs[off : off+recLen]
		if crc32.ChecksumIEEE(r[:recLen-4]) != binary.BigEndian.Uint32(r[recLen-4:]) {
			if off+2*recLen > len(recs) { // the last record: torn by a crash
				break
			}
			return nil, fmt.Errorf("%w: %s: record %d", ErrKeyringCorrupt, path, off/recLen)
		}
		var m mac
		var id kid
		copy(m[:], r[1:])
		copy(id[:], r[1+macLen:])
		switch r[0] {
		case recKey:
			if _, erased := e.erasedIDs[id]; erased {
				break
			}
			k := &key{id: id, owner: m, ready: make(chan struct{})}
			copy(k.raw[:], r[1+macLen+kidLen:])
			close(k.ready)
			e.byID[id] = k
			e.current[m] = k
		case recTombstone:
			if m != (mac{}) {
				e.erasedSubj[m] = struct{}{}
			}
			if id != (kid{}) {
				e.erasedIDs[id] = struct{}{}
				if k := e.byID[id]; k != nil {
					delete(e.byID, id)
					if e.current[m] == k {
						delete(e.current, m)
					}
				}
			}
		default:
			return nil, fmt.Errorf("%w: %s: record %d of type %d", ErrKeyringCorrupt, path, off/recLen, r[0])
		}
		good = off + recLen
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("privacy: open keyring: %w", err)
	}
	if good != len(recs) {
		if err := f.Truncate(int64(fileHeadLen + good)); err != nil {
			f.Close()
			return nil, fmt.Errorf("privacy: cut the torn tail of the keyring: %w", err)
		}
	}
	if _, err := f.Seek(int64(fileHeadLen+good), io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("privacy: keyring: %w", err)
	}
	e.file.f = f
	return e, nil
}

// Close closes the file.
func (e *Embedded) Close() error {
	e.file.mu.Lock()
	defer e.file.mu.Unlock()
	for e.file.flushing {
		e.file.cond.Wait()
	}
	if e.file.f == nil {
		return nil
	}
	err := e.file.f.Close()
	e.file.f = nil
	if e.file.failed == nil {
		e.file.failed = errors.New("privacy: keyring closed")
	}
	return err
}

// ringFile appends key records with group commit (one write and fsync for
// every record waiting) and rewrites the file on erasure.
type ringFile struct {
	path string

	mu       sync.Mutex
	cond     *sync.Cond
	f        *os.File
	buf      []byte
	fillGen  uint64 // the batch that buf fills
	doneGen  uint64 // every batch up to this one is durable
	flushing bool
	failed   error // fail-stop: after a failed write the file's state is unknown
}

func keyRecord(k *key) []byte {
	r := make([]byte, recLen)
	r[0] = recKey
	copy(r[1:], k.owner[:])
	copy(r[1+macLen:], k.id[:])
	copy(r[1+macLen+kidLen:], k.raw[:])
	binary.BigEndian.PutUint32(r[recLen-4:], crc32.ChecksumIEEE(r[:recLen-4]))
	return r
}

func tombstoneRecord(m mac, id kid) []byte {
	r := make([]byte, recLen)
	r[0] = recTombstone
	copy(r[1:], m[:])
	copy(r[1+macLen:], id[:])
	binary.BigEndian.PutUint32(r[recLen-4:], crc32.ChecksumIEEE(r[:recLen-4]))
	return r
}

func (f *ringFile) addKey(_ context.Context, k *key) error {
	rec := keyRecord(k)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failed != nil {
		return f.failed
	}
	f.buf = append(f.buf, rec...)
	mine := f.fillGen
	for f.doneGen <= mine && f.failed == nil {
		if f.flushing {
			f.cond.Wait()
			continue
		}
		f.flushing = true
		batch, gen := f.buf, f.fillGen
		f.buf, f.fillGen = nil, f.fillGen+1
		fd := f.f
		f.mu.Unlock()
		_, err := fd.Write(batch)
		if err == nil {
			err = fd.Sync()
		}
		f.mu.Lock()
		f.flushing = false
		if err != nil {
			f.failed = fmt.Errorf("privacy: keyring write: %w", err)
		} else {
			f.doneGen = gen + 1
		}
		f.cond.Broadcast()
	}
	return f.failed
}

func (f *ringFile) erase(_ context.Context, c *core, _ mac, _ []kid) error { return f.rewrite(c) }

// rewrite writes the whole keyring, from c's state, to a new file that
// replaces the old one: the old file's bytes (the erased keys) leave the
// data directory. The records waiting in buf are in c's state already (a key
// enters c before its record is queued), so they are durable after it.
func (f *ringFile) rewrite(c *core) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.flushing {
		f.cond.Wait()
	}
	if f.failed != nil {
		return f.failed
	}
	var out bytes.Buffer
	out.Write(magic)
	out.Write(c.secret[:])
	out.Write(binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(out.Bytes())))
	c.mu.RLock()
	for m := range c.erasedSubj {
		out.Write(tombstoneRecord(m, kid{}))
	}
	for id := range c.erasedIDs {
		// the owner is not needed to recognise an erased key id
		out.Write(tombstoneRecord(mac{}, id))
	}
	for _, k := range c.byID {
		out.Write(keyRecord(k))
	}
	c.mu.RUnlock()
	if err := f.replace(out.Bytes()); err != nil {
		f.failed = err
		f.cond.Broadcast()
		return err
	}
	f.buf = nil
	f.doneGen = f.fillGen + 1
	f.fillGen++
	f.cond.Broadcast()
	return nil
}

func (f *ringFile) replace(data []byte) error {
	tmp := f.path + ".tmp"
	t, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("privacy: keyring rewrite: %w", err)
	}
	_, err = t.Write(data)
	if err == nil {
		err = t.Sync()
	}
	if cerr := t.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, f.path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(f.path))
	}
	if err != nil {
		return fmt.Errorf("privacy: keyring rewrite: %w", err)
	}
	nf, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("privacy: keyring reopen: %w", err)
	}
	if f.f != nil {
		f.f.Close()
	}
	f.f = nf
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
