package jsonrpc

import "encoding/json"

// AppendRaw appends raw JSON verbatim, or compacted (and so validated)
// when it holds a line break: what a newline-delimited framing such as
// stdio needs, without reflection on the hot path.
func AppendRaw(b []byte, raw json.RawMessage) ([]byte, error) { return appendRaw(b, raw) }
