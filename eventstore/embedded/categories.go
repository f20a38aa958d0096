package embedded

import (
	"bytes"
	"fmt"
	"strings"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/meetingd/meetingd/eventstore"
)

// A stream's category is its name up to and including the first '-'
// ("session-" for "session-app-1/abc"), as in EventStoreDB's $ce- streams;
// a name without '-' has none. The store keeps Stats for every category in
// memory: counted from the streams bucket by Open, then advanced by the
// committer after each commit, before the commit's head is published. Stats
// with a prefix that is a category (the projection runner asks for
// "session-" on every status request and lag scrape) is then answered
// without reading one stream head per stream. A stream has such a prefix
// exactly when its category is that prefix.
type categories struct {
	mu    sync.Mutex
	stats map[string]*eventstore.Stats
}

// category returns the category of stream (sharing its memory), or "".
func category(stream string) string {
	if i := strings.IndexByte(stream, '-'); i >= 0 {
		return stream[:i+1]
	}
	return ""
}

// isCategory reports whether prefix is the category of the streams it
// selects: it ends in its only '-'.
func isCategory(prefix string) bool {
	return prefix != "" && strings.IndexByte(prefix, '-') == len(prefix)-1
}

// categoryDelta is what one append added to its stream's category.
type categoryDelta struct {
	category string
	events   uint64
	lastPos  uint64
}

// count sets the categories from the streams bucket of tx.
func (c *categories) count(tx *bolt.Tx) error {
	stats := map[string]*eventstore.Stats{}
	err := tx.Bucket(bucketStreams).ForEach(func(k, v []byte) error {
		i := bytes.IndexByte(k, '-')
		if i < 0 {
			return nil
		}
		h, err := decodeHead(v)
		if err != nil {
			return fmt.Errorf("stream %s: %w", k, err)
		}
		st := stats[string(k[:i+1])]
		if st == nil {
			st = &eventstore.Stats{}
			stats[string(k[:i+1])] = st
		}
		addEvents(st, h.last+1, h.lastPos)
		return nil
	})
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.stats = stats
	c.mu.Unlock()
	return nil
}

// add applies the deltas of a commit.
func (c *categories) add(deltas []categoryDelta) {
	if len(deltas) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range deltas {
		st := c.stats[d.category]
		if st == nil {
			// The key outlives the request whose stream name it aliases.
			st = &eventstore.Stats{}
			c.stats[strings.Clone(d.category)] = st
		}
		addEvents(st, d.events, d.lastPos)
	}
}

// get returns the Stats of category.
func (c *categories) get(category string) eventstore.Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.stats[category]; st != nil {
		return *st
	}
	return eventstore.Stats{}
}

// addEvents counts events more in st, the last at position lastPos.
func addEvents(st *eventstore.Stats, events, lastPos uint64) {
	st.Events += events
	if lastPos > st.Head.Commit {
		st.Head = position(lastPos)
	}
}

// remove applies the deltas of a stream deletion: their events are no
// longer counted (the category's head stays the newest position written).
func (c *categories) remove(deltas []categoryDelta) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range deltas {
		if st := c.stats[d.category]; st != nil {
			st.Events -= min(st.Events, d.events)
		}
	}
}
