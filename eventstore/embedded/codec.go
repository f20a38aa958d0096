package embedded

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/eventstore"
)

// Buckets of the log file. Positions are 1, 2, 3, … in commit order and
// stored as 8-byte big-endian keys, so that byte order is numeric order.
var (
	// bucketMeta holds keyFormat and keyLogID.
	bucketMeta = []byte("meta")
	// bucketEvents maps position → encoded record (see encodeRecord).
	bucketEvents = []byte("events")
	// bucketIndex holds both indexes of every stream side by side, under the
	// stream's prefix len(stream) ‖ stream (uvarint length):
	//
	//	prefix ‖ tagRev ‖ revision (8 bytes) → position
	//	prefix ‖ tagID  ‖ event ID (16 bytes) → position
	//
	// so that an append dirties the few leaf pages of its own stream rather
	// than one page of each index. Duplicates are recognised per stream, as
	// EventStoreDB does.
	bucketIndex = []byte("index")
	// bucketStreams maps stream → last revision ‖ position of the last event.
	bucketStreams = []byte("streams")

	allBuckets = [][]byte{bucketMeta, bucketEvents, bucketIndex, bucketStreams}

	keyFormat = []byte("format")
	// keyLogID holds the log's identity: 16 random bytes written once, when
	// the file is created (or first opened by a release that has it).
	keyLogID = []byte("log_id")
)

// formatVersion is the layout of the file. Open upgrades a file of format 1
// (upgrade.go) and refuses any other.
const formatVersion = 2

// Tags that follow a stream's prefix in bucketIndex.
const (
	tagRev = 0x01
	tagID  = 0x02
)

// recordVersion is the first byte of every encoded record.
const recordVersion = 1

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), v) }

func position(p uint64) eventstore.Position { return eventstore.Position{Commit: p, Prepare: p} }

// appendStreamPrefix appends the prefix of stream's keys in bucketIndex.
func appendStreamPrefix(k []byte, stream string) []byte {
	k = binary.AppendUvarint(k, uint64(len(stream)))
	return append(k, stream...)
}

// appendIDKey appends the bucketIndex key of event id in stream.
func appendIDKey(k []byte, stream string, id uuid.UUID) []byte {
	k = append(appendStreamPrefix(k, stream), tagID)
	return append(k, id[:]...)
}

// appendRevKey appends revKey(revPrefix(stream), rev) to k.
func appendRevKey(k []byte, stream string, rev uint64) []byte {
	k = append(appendStreamPrefix(k, stream), tagRev)
	return binary.BigEndian.AppendUint64(k, rev)
}

// revPrefix is the common prefix of the revision keys of stream.
func revPrefix(stream string) []byte {
	k := make([]byte, 0, binary.MaxVarintLen64+len(stream)+1+8)
	return append(appendStreamPrefix(k, stream), tagRev)
}

func revKey(prefix []byte, rev uint64) []byte {
	k := make([]byte, 0, len(prefix)+8)
	k = append(k, prefix...)
	return binary.BigEndian.AppendUint64(k, rev)
}

type streamHead struct {
	last    uint64 // revision of the last event
	lastPos uint64 // its position
}

func (h streamHead) encode() []byte { return h.append(make([]byte, 0, 16)) }

func (h streamHead) append(v []byte) []byte {
	v = binary.BigEndian.AppendUint64(v, h.last)
	return binary.BigEndian.AppendUint64(v, h.lastPos)
}

func decodeHead(v []byte) (streamHead, error) {
	if len(v) != 16 {
		return streamHead{}, fmt.Errorf("corrupt stream head of %d bytes", len(v))
	}
	return streamHead{last: binary.BigEndian.Uint64(v), lastPos: binary.BigEndian.Uint64(v[8:])}, nil
}

// encodeRecord lays an event out as
//
//	version(1) id(16) revision(uvarint) recordedAt(varint ns since the epoch)
//	stream, type, data, metadata (each uvarint length ‖ bytes)
func encodeRecord(e *eventstore.Event, stream string, rev uint64, at time.Time) []byte {
	return appendRecord(make([]byte, 0, recordSize(e, stream)), e, stream, rev, at)
}

// recordSize bounds the length of an encoded record.
func recordSize(e *eventstore.Event, stream string) int {
	return 1 + 16 + 2*binary.MaxVarintLen64 + 4*binary.MaxVarintLen32 +
		len(stream) + len(e.Type) + len(e.Data) + len(e.Metadata)
}

// appendRecord appends the encoded record to b (see encodeRecord).
func appendRecord(b []byte, e *eventstore.Event, stream string, rev uint64, at time.Time) []byte {
	b = append(b, recordVersion)
	b = append(b, e.ID[:]...)
	b = binary.AppendUvarint(b, rev)
	b = binary.AppendVarint(b, at.UnixNano())
	b = appendString(b, stream)
	b = appendString(b, e.Type)
	b = appendBytes(b, e.Data)
	return appendBytes(b, e.Metadata)
}

func appendString(b []byte, v string) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

var errCorrupt = errors.New("corrupt record")

// recordStream returns the stream name of an encoded record without
// decoding (or copying) the rest: it aliases v.
func recordStream(v []byte) ([]byte, error) {
	d := decoder{b: v}
	d.header()
	s := d.bytes()
	return s, d.err
}

// decodeRecord copies the record v, stored at pos, out of the file's memory,
// into a (see arena).
func decodeRecord(v []byte, pos uint64, a *arena) (eventstore.RecordedEvent, error) {
	d := decoder{b: v}
	id, rev, at := d.header()
	stream, typ := d.bytes(), d.bytes()
	data, meta := d.bytes(), d.bytes()
	if d.err == nil && len(d.b) != 0 {
		d.err = errCorrupt
	}
	if d.err != nil {
		return eventstore.RecordedEvent{}, fmt.Errorf("decode event at position %d: %w", pos, d.err)
	}
	return eventstore.RecordedEvent{
		Event: eventstore.Event{
			ID:       id,
			Type:     a.string(typ),
			Data:     a.bytes(data),
			Metadata: a.bytes(meta),
		},
		Stream:     a.string(stream),
		Revision:   rev,
		Position:   position(pos),
		RecordedAt: time.Unix(0, at).UTC(),
	}, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) header() (id uuid.UUID, rev uint64, at int64) {
	if len(d.b) < 17 || d.b[0] != recordVersion {
		d.err = errCorrupt
		return
	}
	copy(id[:], d.b[1:17])
	d.b = d.b[17:]
	rev = d.uvarint()
	if d.err != nil {
		return
	}
	at, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return
	}
	d.b = d.b[n:]
	return id, rev, at
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

// bytes returns the next length-prefixed field, aliasing d's buffer.
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errCorrupt
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func be64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }
