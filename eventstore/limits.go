package eventstore

import "fmt"

// MaxStreamNameBytes is the longest stream name that every Store accepts:
// ValidateAppend refuses longer names, so that no implementation accepts a
// name that another refuses. It covers the longest name meetingd builds from
// ids the webhook decoder accepts (two 512-byte ids, every byte escaped to
// three: about 3 KiB).
const MaxStreamNameBytes = 4096

// Limits are the bounds of one Append that a Store enforces (it fails with
// ErrInvalidEvent past them). Callers that must never see that failure for
// input they accepted (the webhook intake) check Limits first.
type Limits struct {
	// MaxStreamNameBytes is the longest stream name accepted.
	MaxStreamNameBytes int
	// MaxAppendBytes bounds AppendSize of one append; 0 means no bound.
	MaxAppendBytes int
}

// AppendSize is the size of an append as KurrentDB measures it against its
// MaxAppendSize: the data and metadata of every event, and twice the length
// of its type.
func AppendSize(events ...Event) int {
	n := 0
	for i := range events {
		n += len(events[i].Data) + len(events[i].Metadata) + 2*len(events[i].Type)
	}
	return n
}

// Check returns why appending events to stream exceeds l, or nil. Its error
// does not wrap ErrInvalidEvent (ValidateAppend adds that).
func (l Limits) Check(stream string, events []Event) error {
	if l.MaxStreamNameBytes > 0 && len(stream) > l.MaxStreamNameBytes {
		return fmt.Errorf("stream name of %d bytes exceeds the limit of %d", len(stream), l.MaxStreamNameBytes)
	}
	if l.MaxAppendBytes > 0 {
		if n := AppendSize(events...); n > l.MaxAppendBytes {
			return fmt.Errorf("append of %d bytes exceeds the limit of %d", n, l.MaxAppendBytes)
		}
	}
	return nil
}
