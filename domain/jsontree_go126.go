//go:build !go1.27

package domain

// parseTree is parseObject's fast path, which needs encoding/json/jsontext
// (go1.27): before it, every body is parsed by encoding/json.
func parseTree([]byte) (map[string]any, bool) { return nil, false }

// goVersionHasJSONText reports whether parseTree has its fast path.
const goVersionHasJSONText = false
