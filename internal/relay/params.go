package relay

import (
	"encoding/json"
	"slices"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
)

// The relay routes on one or two fields of a request's params (the name or
// URI, and _meta.progressToken) and forwards the rest untouched. readRouting
// finds them with one scan instead of decoding the params, and remembers
// where they sit, so that renaming the tool or replacing the token splices
// bytes instead of re-encoding the object: the upstream receives the
// client's params byte for byte, keys in their order, except the spliced
// values.
//
// Anything unusual — a key that differs from the field's name only in case
// or is escaped (encoding/json would match it), a field given twice (the
// last would win), an escaped or non-ASCII value — sends the caller to
// encoding/json, so that routing always sees what json.Unmarshal would.

// span locates a value in params; the zero span means "absent".
type span struct{ start, end int }

func (s span) ok() bool { return s.end > s.start }

// routing are the routing fields of a request's params.
type routing struct {
	key   string          // the routing key: a tool's or prompt's name, or a URI
	token json.RawMessage // _meta.progressToken, raw; nil when absent
	// keyAt and tokenAt locate the two values in params.
	keyAt, tokenAt span
}

// readRouting reads the string field field and _meta.progressToken from
// params. ok is false when the fast path does not apply (see above); the
// caller then decodes params with encoding/json.
func readRouting(params json.RawMessage, field string) (r routing, ok bool) {
	var seenKey, seenMeta bool
	ok = true
	valid := jsonrpc.Members(params, func(m jsonrpc.Member) bool {
		if !plainKey(m) {
			ok = false
			return false
		}
		switch {
		case string(m.Key) == field:
			if seenKey {
				ok = false
				return false
			}
			seenKey = true
			s, plain := jsonrpc.PlainString(m.Value)
			if !plain {
				ok = string(m.Value) == "null" // null leaves the field empty
				return ok
			}
			r.key, r.keyAt = string(s), span{m.Start, m.End}
		case string(m.Key) == "_meta":
			if seenMeta {
				ok = false
				return false
			}
			seenMeta = true
			if string(m.Value) == "null" {
				return true
			}
			if !readToken(m, &r) {
				ok = false
				return false
			}
		case jsonrpc.FoldEqual(m.Key, field) || jsonrpc.FoldEqual(m.Key, "_meta"):
			ok = false
			return false
		}
		return true
	})
	return r, ok && valid
}

// readToken reads progressToken from the _meta member m.
func readToken(m jsonrpc.Member, r *routing) bool {
	seen := false
	return jsonrpc.Members(m.Value, func(t jsonrpc.Member) bool {
		switch {
		case !plainKey(t):
			return false
		case string(t.Key) == "progressToken":
			if seen {
				return false
			}
			seen = true
			r.token = t.Value
			r.tokenAt = span{m.Start + t.Start, m.Start + t.End}
		case jsonrpc.FoldEqual(t.Key, "progressToken"):
			return false
		}
		return true
	})
}

// plainKey reports whether a member's key is ASCII without escapes, so that
// comparing its bytes is how encoding/json would match it.
func plainKey(m jsonrpc.Member) bool {
	if m.KeyEscaped {
		return false
	}
	for _, c := range m.Key {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// splice is one replacement of a value in params.
type splice struct {
	at  span
	raw []byte
}

// applySplices returns params with each span replaced, in a new buffer.
func applySplices(params json.RawMessage, edits []splice) json.RawMessage {
	if len(edits) == 2 && edits[1].at.start < edits[0].at.start {
		edits[0], edits[1] = edits[1], edits[0]
	}
	if len(edits) > 2 {
		slices.SortFunc(edits, func(a, b splice) int { return a.at.start - b.at.start })
	}
	n := len(params)
	for _, e := range edits {
		n += len(e.raw) - (e.at.end - e.at.start)
	}
	out := make([]byte, 0, n)
	prev := 0
	for _, e := range edits {
		out = append(out, params[prev:e.at.start]...)
		out = append(out, e.raw...)
		prev = e.at.end
	}
	return append(out, params[prev:]...)
}
