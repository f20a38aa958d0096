package reports

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strings"
)

// Cursor is where a meeting page ends: its last meeting. Implementations
// share this encoding, so that a page continues strictly after
// (StartedUnix, SessionID) in the list order whatever store serves it.
type Cursor struct {
	// StartedUnix is the last meeting's started_at in Unix seconds (0 when unknown).
	StartedUnix int64
	SessionID   string
}

// cursorFormat versions the encoding below.
const cursorFormat = 1

// String encodes c, opaque and URL-safe: base64url of format(1) started(8)
// session crc32(4). The checksum turns a mangled cursor into ErrBadCursor
// rather than a silent jump.
func (c Cursor) String() string {
	b := make([]byte, 0, 1+8+len(c.SessionID)+4)
	b = append(b, cursorFormat)
	b = binary.BigEndian.AppendUint64(b, uint64(c.StartedUnix))
	b = append(b, c.SessionID...)
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseCursor decodes a cursor made by Cursor.String, or returns ErrBadCursor.
// The base64 is decoded strictly: the unused low bits of the last character
// must be zero, or two spellings would name the same cursor.
func ParseCursor(s string) (Cursor, error) {
	// Strict base64 still skips '\r' and '\n' anywhere in the input: a
	// cursor with one inside would be a second spelling of a valid cursor.
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || strings.ContainsAny(s, "\r\n") || len(b) < 1+8+4 || b[0] != cursorFormat {
		return Cursor{}, fmt.Errorf("cursor %q: %w", s, ErrBadCursor)
	}
	body, sum := b[:len(b)-4], b[len(b)-4:]
	if crc32.ChecksumIEEE(body) != binary.BigEndian.Uint32(sum) {
		return Cursor{}, fmt.Errorf("cursor %q: %w", s, ErrBadCursor)
	}
	return Cursor{StartedUnix: int64(binary.BigEndian.Uint64(body[1:])), SessionID: string(body[9:])}, nil
}
