package demo

import (
	"context"
	"encoding/json"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// Fast paths for the demo's hottest request, a tools/call of a tool with
// simple arguments (what the gateway's benchmark sends): the same answers
// as encoding/json gives, byte for byte, without reflection, and requests
// run on reused goroutines. Each fast path reports whether it applied;
// anything unusual (escaped, non-ASCII or case-folded keys, repeated keys,
// strings that need decoding) goes the general way. The demo is the
// conformance fixture: these change how it decodes and encodes, never what
// it answers.

// fastMembers reads the object obj without decoding it: for each key in
// want, the raw value of the member whose key is exactly that. ok is false
// when encoding/json could read obj differently: obj is invalid, a key is
// escaped or not plain ASCII, a key is repeated, or a key matches a wanted
// one only ignoring case (encoding/json would take it).
func fastMembers(obj []byte, want []string, vals [][]byte) (ok bool) {
	var seen uint8 // bit i: want[i] seen
	valid := jsonrpc.Members(obj, func(m jsonrpc.Member) bool {
		if m.KeyEscaped {
			return false
		}
		for _, c := range m.Key {
			if c >= 0x80 { // encoding/json folds some non-ASCII letters (K, ſ)
				return false
			}
		}
		for i, w := range want {
			switch {
			case string(m.Key) == w:
				if seen&(1<<i) != 0 {
					return false
				}
				seen |= 1 << i
				vals[i] = m.Value
			case jsonrpc.FoldEqual(m.Key, w):
				return false
			}
		}
		return true
	})
	return valid
}

// fastString returns the string a plain JSON string value holds, and nil
// for an absent value. ok is false for anything else (null, escapes,
// other types), which encoding/json must decode.
func fastString(raw []byte) (s *string, ok bool) {
	if raw == nil {
		return nil, true
	}
	b, plain := jsonrpc.PlainString(raw)
	if !plain {
		return nil, false
	}
	str := string(b)
	return &str, true
}

var toolsCallKeys = []string{"name", "arguments"}

// fastToolsCallParams reads tools/call params as handleToolsCall's struct
// would: the name and the raw arguments.
func fastToolsCallParams(params []byte) (name *string, args json.RawMessage, ok bool) {
	if len(params) == 0 {
		return nil, nil, true
	}
	var vals [2][]byte
	if !fastMembers(params, toolsCallKeys, vals[:]) {
		return nil, nil, false
	}
	if name, ok = fastString(vals[0]); !ok {
		return nil, nil, false
	}
	return name, vals[1], true
}

var messageKey = []string{"message"}

// fastMessageArg reads echo's arguments: the message, nil when absent.
func fastMessageArg(args []byte) (msg *string, ok bool) {
	var vals [1][]byte
	if !fastMembers(args, messageKey, vals[:]) {
		return nil, false
	}
	return fastString(vals[0])
}

var metaKey, progressTokenKey = []string{"_meta"}, []string{"progressToken"}

// fastProgressToken is progressToken without decoding params: the common
// case, params without _meta, costs one scan.
func fastProgressToken(params []byte) (tok json.RawMessage, ok bool) {
	var meta [1][]byte
	if !fastMembers(params, metaKey, meta[:]) {
		return nil, false
	}
	if meta[0] == nil || string(meta[0]) == "null" {
		return nil, true
	}
	if meta[0][0] != '{' {
		return nil, false // encoding/json fails on it: the general way answers
	}
	var t [1][]byte
	if !fastMembers(meta[0], progressTokenKey, t[:]) {
		return nil, false
	}
	if t[0] == nil || !jsonrpc.ValidID(t[0]) {
		return nil, true
	}
	return t[0], true
}

// fastIDKey is idKey for a plain integer id (digits, maybe a minus sign,
// within int64), the common case, without encoding/json.
func fastIDKey(id []byte) (string, bool) {
	if len(id) == 0 || len(id) > 18 {
		return "", false
	}
	for i, c := range id {
		if (c < '0' || c > '9') && !(i == 0 && c == '-' && len(id) > 1) {
			return "", false
		}
	}
	if len(id) > 1 && (id[0] == '0' || id[0] == '-' && id[1] == '0') {
		return "", false // not valid JSON: the general way decides
	}
	return "n:" + string(id), true
}

// fastEncodeResult encodes a tool result of text content only, exactly as
// json.Marshal does; ok is false for any other result.
func fastEncodeResult(result any) (json.RawMessage, bool) {
	r, isTool := result.(*toolResult)
	if !isTool || r == nil || len(r.StructuredContent) > 0 || len(r.Content) == 0 {
		return nil, false
	}
	b := make([]byte, 0, 64)
	b = append(b, `{"content":[`...)
	for i, c := range r.Content {
		if c.Type != "text" || c.Data != "" || c.MimeType != "" || c.Resource != nil {
			return nil, false
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"type":"text"`...)
		if c.Text != "" {
			b = append(b, `,"text":`...)
			b = jsonrpc.AppendString(b, c.Text)
		}
		b = append(b, '}')
	}
	b = append(b, ']')
	if r.IsError {
		b = append(b, `,"isError":true`...)
	}
	return append(b, '}'), true
}

// encodeResult is jsonrpc.MustRaw(result), the fast way when it can be.
func encodeResult(result any) json.RawMessage {
	if raw, ok := fastEncodeResult(result); ok {
		return raw
	}
	return jsonrpc.MustRaw(result)
}

// goHandler runs f on an idle request goroutine, or a new one
// (workpool.Pool). A request goroutine's stack has grown through the
// request path already, so the next request does not grow a fresh 2 KB
// stack copy by copy (a third of the demo's CPU under load when every
// request had its own goroutine). shutdown stops and waits for them.
func (s *server) goHandler(f func()) { s.handlerPool.Go(f) }

// instantTools answer from their arguments alone, at once: they never
// block, wait for the client or send anything but their result.
var instantTools = map[string]bool{"echo": true, "add": true}

// runInstant answers a tools/call of an instant tool on the calling
// goroutine (the read loop), without a request goroutine, a cancellable
// context and the in-flight entry that run gives every other request (a
// call that cannot block has nothing to cancel). It applies run's checks
// first: when the id is in use or too many requests are in flight it
// reports false and run answers with its error, so the answers are the
// same. It reports false, doing nothing, for any other request.
func (s *server) runInstant(ctx context.Context, m *jsonrpc.Message, meth method, r *request, reply replyFunc) bool {
	if m.Method != mcp.MethodToolsCall {
		return false
	}
	name, _, ok := fastToolsCallParams(m.Params)
	if !ok || name == nil || !instantTools[*name] {
		return false
	}
	key := idKey(m.ID)
	s.mu.Lock()
	_, dup := s.inflight[key]
	busy := len(s.inflight) >= s.opts.MaxInFlight
	s.mu.Unlock()
	if dup || busy {
		return false
	}
	result, rpcErr := meth.handle(ctx, s, r)
	reply(respond(r, result, rpcErr))
	return true
}
