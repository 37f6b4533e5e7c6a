package jsonrpc

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// The fast paths of Decode and Encode. A message on the gateway's hot path
// is a plain envelope around raw params or a raw result: decodeFast scans
// it once, validating it as it goes, and copies it once; appendMessage
// writes it without reflection. Anything unusual (escaped or non-ASCII
// member names, names that differ from the fields only in case, repeated
// fields, escaped or non-ASCII method names, a null error) is left to
// encoding/json, so that the result is always exactly what json.Unmarshal
// would have decoded.

// envelope field numbers, for duplicate detection.
const (
	fJSONRPC = 1 << iota
	fID
	fMethod
	fParams
	fResult
	fError
)

var fieldNames = [...]struct {
	name string
	bit  int
}{
	{"jsonrpc", fJSONRPC}, {"id", fID}, {"method", fMethod},
	{"params", fParams}, {"result", fResult}, {"error", fError},
}

// decodeFast decodes data, a trimmed JSON object. ok is false when the
// fast path does not apply, data is not valid JSON, or it nests deeper than
// MaxDepth: the caller then decodes with encoding/json.
func decodeFast(data []byte) (m *Message, ok bool) {
	var (
		seen                                      int
		version, method, id, params, result, errv [2]int
	)
	ok = true
	end := scanObject(data, 0, MaxDepth, func(mb member) bool {
		if mb.keyEscaped {
			ok = false
			return false
		}
		key := data[mb.keyStart+1 : mb.keyEnd-1]
		for _, f := range fieldNames {
			if string(key) != f.name {
				if foldEqual(key, f.name) {
					ok = false // encoding/json matches names case-insensitively
					return false
				}
				continue
			}
			if seen&f.bit != 0 {
				ok = false // the last one would win: leave it to encoding/json
				return false
			}
			seen |= f.bit
			span := [2]int{mb.valStart, mb.valEnd}
			switch f.bit {
			case fJSONRPC:
				version = span
			case fID:
				id = span
			case fMethod:
				method = span
			case fParams:
				params = span
			case fResult:
				result = span
			case fError:
				errv = span
			}
			return true
		}
		for _, c := range key {
			if c >= 0x80 {
				ok = false // non-ASCII names may fold to a field's name
				return false
			}
		}
		return true
	})
	if !ok || end != len(data) {
		return nil, false
	}
	m = new(Message)
	if seen&fJSONRPC != 0 {
		s, ok := plainString(data[version[0]:version[1]])
		if !ok {
			return nil, false
		}
		if string(s) == Version {
			m.JSONRPC = Version
		} else {
			m.JSONRPC = string(s)
		}
	}
	if seen&fMethod != 0 {
		s, ok := plainString(data[method[0]:method[1]])
		if !ok {
			return nil, false
		}
		m.Method = internMethod(s)
	}
	if seen&fError != 0 {
		raw := data[errv[0]:errv[1]]
		if raw[0] != '{' {
			return nil, false // null, or a type error with encoding/json's wording
		}
		m.Error = new(Error)
		if json.Unmarshal(raw, m.Error) != nil {
			return nil, false
		}
	}
	// One copy holds every raw field; each is capped so that an append to
	// one cannot overwrite the next.
	var n int
	for _, sp := range [...][2]int{id, params, result} {
		n += sp[1] - sp[0]
	}
	if n == 0 {
		return m, true
	}
	buf := make([]byte, 0, n)
	field := func(sp [2]int) json.RawMessage {
		if sp[1] == sp[0] {
			return nil
		}
		start := len(buf)
		buf = append(buf, data[sp[0]:sp[1]]...)
		return buf[start:len(buf):len(buf)]
	}
	m.ID, m.Params, m.Result = field(id), field(params), field(result)
	return m, true
}

// plainString returns the contents of raw, a JSON string, when they need
// no decoding: no escapes and only ASCII (encoding/json would replace
// invalid UTF-8). ok is false for anything else, strings or not.
func plainString(raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return nil, false
	}
	s := raw[1 : len(raw)-1]
	for _, c := range s {
		if c == '\\' || c >= 0x80 {
			return nil, false
		}
	}
	return s, true
}

// appendMessage appends m encoded as one line of JSON: the same fields as
// json.Marshal writes (empty ones omitted), with raw fields copied
// verbatim unless they span lines, in which case they are compacted, so
// that the output never holds a raw newline (the stdio framing relies on
// it).
func appendMessage(b []byte, m *Message) ([]byte, error) {
	b = append(b, `{"jsonrpc":`...)
	b = appendString(b, m.JSONRPC)
	var err error
	if len(m.ID) > 0 {
		b = append(b, `,"id":`...)
		if b, err = appendRaw(b, m.ID); err != nil {
			return nil, err
		}
	}
	if m.Method != "" {
		b = append(b, `,"method":`...)
		b = appendString(b, m.Method)
	}
	if len(m.Params) > 0 {
		b = append(b, `,"params":`...)
		if b, err = appendRaw(b, m.Params); err != nil {
			return nil, err
		}
	}
	if len(m.Result) > 0 {
		b = append(b, `,"result":`...)
		if b, err = appendRaw(b, m.Result); err != nil {
			return nil, err
		}
	}
	if m.Error != nil {
		b = append(b, `,"error":{"code":`...)
		b = strconv.AppendInt(b, int64(m.Error.Code), 10)
		b = append(b, `,"message":`...)
		b = appendString(b, m.Error.Message)
		if len(m.Error.Data) > 0 {
			b = append(b, `,"data":`...)
			if b, err = appendRaw(b, m.Error.Data); err != nil {
				return nil, err
			}
		}
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

// appendRaw appends raw JSON verbatim, or compacted (and so validated)
// when it holds a line break.
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

// AppendString appends s as a JSON string, exactly as json.Marshal writes
// it, without reflection for plain ASCII.
func AppendString(b []byte, s string) []byte { return appendString(b, s) }

// appendString appends s as a JSON string, exactly as json.Marshal writes
// it: plain ASCII is copied, anything else goes through json.Marshal.
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

// internMethod returns s as a string, without allocating for the methods
// that make up nearly all traffic (the string(s) in a switch does not
// allocate). This package knows JSON-RPC, not MCP: the list is only a
// cache, and any other method is copied.
func internMethod(s []byte) string {
	switch string(s) {
	case "tools/call":
		return "tools/call"
	case "tools/list":
		return "tools/list"
	case "resources/read":
		return "resources/read"
	case "prompts/get":
		return "prompts/get"
	case "ping":
		return "ping"
	case "notifications/progress":
		return "notifications/progress"
	case "notifications/cancelled":
		return "notifications/cancelled"
	case "notifications/message":
		return "notifications/message"
	case "notifications/initialized":
		return "notifications/initialized"
	}
	return string(s)
}
