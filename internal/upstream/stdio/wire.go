package stdio

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// The stdio framing: one JSON-RPC message per line, and a message MUST NOT
// contain an embedded newline [T §stdio]. The builders below write the
// envelope directly (no reflection on the hot path) and pass raw params
// through unchanged unless they hold a newline, which only JSON whitespace
// can, in which case they are compacted.

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
	b = appendString(b, method)
	if len(params) > 0 {
		b = append(b, `,"params":`...)
		var err error
		if b, err = appendRaw(b, params); err != nil {
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

// appendString appends s as a JSON string. Method names are plain ASCII in
// practice; anything else goes through json.Marshal.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendRaw appends raw JSON, compacting it when it spans lines. The caller
// vouches that raw is valid JSON (it came from jsonrpc.Decode or
// json.Marshal); compacting validates it anyway.
func appendRaw(b []byte, raw json.RawMessage) ([]byte, error) {
	if bytes.IndexByte(raw, '\n') < 0 && bytes.IndexByte(raw, '\r') < 0 {
		return append(b, raw...), nil
	}
	buf := bytes.NewBuffer(b)
	if err := json.Compact(buf, raw); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
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

// sanitize makes an error text safe to show on /health and in logs (see
// upstream.ErrorText).
func sanitize(s string) string { return upstream.ErrorText(s) }

const maxErrorText = upstream.MaxErrorText

// prefix returns at most n bytes of line, quoted, for logging malformed
// input without logging its content.
func prefix(line []byte, n int) string {
	if len(line) > n {
		return strconv.Quote(string(line[:n])) + "…"
	}
	return strconv.Quote(string(line))
}
