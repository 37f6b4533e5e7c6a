package stdio

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
)

// The stdio framing: one JSON-RPC message per line, and a message MUST NOT
// contain an embedded newline [T §stdio]. The builders below write the
// envelope directly (no reflection on the hot path) and pass raw params
// through unchanged unless they hold a newline, which only JSON whitespace
// can, in which case they are compacted.

// Request lines are recycled: once the writer has written a line, it keeps
// its buffer (up to spareLines of them, none larger than spareLineCap: at
// most 64 KB per process, a few KB in practice, which matters with a
// process per user) for the next request instead of leaving it to the
// garbage collector: an allocation less per call. A buffer queued to the
// writer belongs to it.
const (
	spareLines   = 16
	spareLineCap = 4 << 10
)

// lineBuffer returns an empty buffer to build a line of about n bytes in:
// a written line's, or a new one.
func (p *process) lineBuffer(n int) []byte {
	select {
	case b := <-p.spare:
		return b
	default:
		return make([]byte, 0, max(n, 256))
	}
}

// recycle keeps a written line's buffer for lineBuffer, unless it is large
// or enough are kept.
func (p *process) recycle(line []byte) {
	if cap(line) > spareLineCap {
		return
	}
	select {
	case p.spare <- line[:0]:
	default:
	}
}

// appendRequest appends a request line (with its trailing newline) to b.
func appendRequest(b []byte, id int64, method string, params json.RawMessage) ([]byte, error) {
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = strconv.AppendInt(b, id, 10)
	return appendTail(b, method, params)
}

// appendNotification appends a notification line to b.
func appendNotification(b []byte, method string, params json.RawMessage) ([]byte, error) {
	b = append(b, `{"jsonrpc":"2.0"`...)
	return appendTail(b, method, params)
}

func appendTail(b []byte, method string, params json.RawMessage) ([]byte, error) {
	b = append(b, `,"method":`...)
	b = jsonrpc.AppendString(b, method)
	if len(params) > 0 {
		b = append(b, `,"params":`...)
		var err error
		if b, err = jsonrpc.AppendRaw(b, params); err != nil {
			return nil, fmt.Errorf("encoding params: %w", err)
		}
	}
	return append(b, "}\n"...), nil
}

// appendResponse appends a response line for msg to b.
func appendResponse(b []byte, msg *jsonrpc.Message) []byte {
	// jsonrpc encodes a message as one line: raw fields that span lines
	// are compacted.
	b = jsonrpc.AppendEncode(b, msg)
	return append(b, '\n')
}

// parseID reads an id the gateway allocated: a plain non-negative decimal
// integer. Anything else is not ours.
func parseID(raw json.RawMessage) (int64, bool) {
	if len(raw) == 0 || len(raw) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range raw {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// prefix returns at most n bytes of line, quoted, for logging malformed
// input without logging its content.
func prefix(line []byte, n int) string {
	if len(line) > n {
		return strconv.Quote(string(line[:n])) + "…"
	}
	return strconv.Quote(string(line))
}
