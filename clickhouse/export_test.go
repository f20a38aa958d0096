package clickhouse

import "github.com/meetingd/meetingd/projections"

// InsertsOf returns what a flush of b into empty tables inserts, in order:
// per INSERT, the table, its columns and its rows.
func InsertsOf(b projections.Batch) ([]Insert, error) {
	updates := make(map[projections.SessionKey]versioned, len(b.Sessions))
	keys := make([]projections.SessionKey, 0, len(b.Sessions))
	for _, u := range b.Sessions {
		updates[u.Key] = versioned{u, b.Version}
		keys = append(keys, u.Key)
	}
	intents, rs, commits, err := buildFlush(keys, updates, nil)
	if err != nil {
		return nil, err
	}
	out := []Insert{{tHeads.name, tHeads.columns, intents.rows[tHeads.name]}}
	for _, t := range rowTables {
		out = append(out, Insert{t.name, t.columns, rs.rows[t.name]})
	}
	return append(out, Insert{tHeads.name, tHeads.columns, commits.rows[tHeads.name]}), nil
}

// Insert is one INSERT of a flush.
type Insert struct {
	Table   string
	Columns []string
	Rows    [][]any
}
