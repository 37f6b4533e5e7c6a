package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Protocol revisions the client speaks.
const (
	version20241105 = "2024-11-05" // legacy HTTP+SSE
	version20251125 = "2025-11-25" // Streamable HTTP with sessions
	version20260728 = "2026-07-28" // stateless requests
)

// toolCall is the call every mode makes: one tool, fixed arguments.
type toolCall struct {
	// Name is the tool's name as the server lists it.
	Name string
	// Arguments is the arguments object, raw JSON.
	Arguments json.RawMessage
}

// defaultCall is the echo tool of the demo server (and of
// server-everything), with a short message.
var defaultCall = toolCall{Name: "echo", Arguments: json.RawMessage(`{"message":"hello, gateway"}`)}

// callParams returns the params object of a tools/call request; meta, when
// set, is added as its _meta.
func (tc toolCall) callParams(meta json.RawMessage) []byte {
	b := []byte(`{"name":`)
	name, _ := json.Marshal(tc.Name) // a string always marshals
	b = append(b, name...)
	b = append(b, `,"arguments":`...)
	b = append(b, tc.Arguments...)
	if len(meta) > 0 {
		b = append(b, `,"_meta":`...)
		b = append(b, meta...)
	}
	return append(b, '}')
}

// appendRequest appends a JSON-RPC request with a numeric id.
func appendRequest(b []byte, id int64, method string, params []byte) []byte {
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"method":"`...)
	b = append(b, method...)
	b = append(b, '"')
	if len(params) > 0 {
		b = append(b, `,"params":`...)
		b = append(b, params...)
	}
	return append(b, '}')
}

// appendNotification appends a JSON-RPC notification without params.
func appendNotification(b []byte, method string) []byte {
	b = append(b, `{"jsonrpc":"2.0","method":"`...)
	b = append(b, method...)
	return append(b, `"}`...)
}

// initializeParams are the params of the client's initialize request.
func initializeParams(version string) []byte {
	return []byte(`{"protocolVersion":"` + version + `","capabilities":{},"clientInfo":{"name":"mcpgate-bench","version":"1"}}`)
}

var (
	keyResult  = []byte(`"result"`)
	keyError   = []byte(`"error"`)
	keyMethod  = []byte(`"method"`)
	keyID      = []byte(`"id"`)
	toolFailed = []byte(`"isError":true`)
)

// errNoResult is a response that carries neither a result nor an error.
var errNoResult = errors.New("response without result")

// checkResponse reports whether msg, one JSON-RPC response, carries a
// successful result: a JSON-RPC error or a tool result with isError set is an
// error. It scans rather than decodes, so that the client spends little of
// the machine it shares with the server; the tool's arguments must not
// contain the words it looks for (the defaults do not).
func checkResponse(msg []byte) error {
	if bytes.Contains(msg, keyResult) {
		if bytes.Contains(msg, toolFailed) {
			return fmt.Errorf("tool error: %s", clip(msg, 200))
		}
		return nil
	}
	if bytes.Contains(msg, keyError) {
		var m struct {
			Error struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(msg, &m) == nil {
			return fmt.Errorf("json-rpc error %d: %s", m.Error.Code, m.Error.Message)
		}
	}
	return fmt.Errorf("%w: %s", errNoResult, clip(msg, 200))
}

// isResponse reports whether msg is a JSON-RPC response rather than a
// request or notification (which carry a method).
func isResponse(msg []byte) bool { return !bytes.Contains(msg, keyMethod) }

// messageID returns the numeric id of msg, scanning for the first "id" key.
// ok is false when there is none or it is not a non-negative integer.
func messageID(msg []byte) (id int64, ok bool) {
	i := bytes.Index(msg, keyID)
	if i < 0 {
		return 0, false
	}
	rest := msg[i+len(keyID):]
	for len(rest) > 0 && (rest[0] == ' ' || rest[0] == ':' || rest[0] == '\t') {
		rest = rest[1:]
	}
	n := 0
	for n < len(rest) && n < 18 && rest[n] >= '0' && rest[n] <= '9' {
		id = id*10 + int64(rest[n]-'0')
		n++
	}
	return id, n > 0
}

// clip returns at most n bytes of b as a string, for error messages.
func clip(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
