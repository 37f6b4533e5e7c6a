// Package jsonrpc holds JSON-RPC 2.0 messages as the gateway sees them: the
// routing fields decoded, everything else kept as raw JSON so that what the
// gateway does not inspect passes through unchanged.
//
// It owns message framing and the standard error codes; it knows nothing of
// MCP methods (see package mcp) or of HTTP.
package jsonrpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Version is the only JSON-RPC version string accepted.
const Version = "2.0"

// Standard JSON-RPC 2.0 error codes, and the MCP codes built on them.
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternalError  = -32603
	// CodeRequestCancelled is used by the gateway when it gives up on a call
	// the client cancelled.
	CodeRequestCancelled = -32800
	// CodeResourceNotFound is MCP's code for resources/read of an unknown URI.
	CodeResourceNotFound = -32002
	// CodeUpstreamUnavailable is the gateway's code for an upstream that is
	// down, restarting or has died with the call in flight (server error range).
	CodeUpstreamUnavailable = -32001
)

// Error is a JSON-RPC error object. Message is sent to the client: never put
// internal detail in it.
type Error struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func (e *Error) Error() string { return fmt.Sprintf("jsonrpc error %d: %s", e.Code, e.Message) }

// NewError returns an Error with the given code and public message.
func NewError(code int, msg string) *Error { return &Error{Code: code, Message: msg} }

// Kind says what a message is.
type Kind uint8

const (
	KindInvalid Kind = iota
	KindRequest
	KindNotification
	KindResponse
)

func (k Kind) String() string {
	switch k {
	case KindRequest:
		return "request"
	case KindNotification:
		return "notification"
	case KindResponse:
		return "response"
	}
	return "invalid"
}

// Message is one JSON-RPC 2.0 message. ID, Params and Result are raw JSON and
// are re-encoded byte for byte.
type Message struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *Error          `json:"error,omitempty"`
}

// Kind classifies m; it does not validate it (see Validate).
func (m *Message) Kind() Kind {
	switch {
	case m.Method != "" && len(m.ID) > 0:
		return KindRequest
	case m.Method != "":
		return KindNotification
	case len(m.ID) > 0 && (m.Result != nil || m.Error != nil):
		return KindResponse
	}
	return KindInvalid
}

// IsRequest reports whether m is a request (has a method and an id).
func (m *Message) IsRequest() bool { return m.Kind() == KindRequest }

// Validate checks the JSON-RPC 2.0 envelope rules (jsonrpc "2.0"; id a string
// or number, never null; a response has exactly one of result and error).
func (m *Message) Validate() error {
	if m.JSONRPC != Version {
		return errors.New(`"jsonrpc" must be "2.0"`)
	}
	if len(m.ID) > 0 && !ValidID(m.ID) {
		return errors.New(`"id" must be a string or an integer`)
	}
	if m.Method != "" {
		if m.Result != nil || m.Error != nil {
			return errors.New("a request carries no result or error")
		}
		if len(m.Params) > 0 && m.Params[0] != '{' && m.Params[0] != '[' {
			return errors.New(`"params" must be an object or an array`)
		}
		return nil
	}
	if len(m.ID) == 0 {
		return errors.New(`a message needs "method" or "id"`)
	}
	if (m.Result != nil) == (m.Error != nil) {
		return errors.New("a response carries exactly one of result and error")
	}
	return nil
}

// ValidID reports whether raw is a JSON string or integer (MCP forbids null
// ids). raw must be valid JSON, as it is after Decode.
func ValidID(raw json.RawMessage) bool {
	if len(raw) == 0 {
		return false
	}
	if raw[0] == '"' {
		return len(raw) >= 2 && raw[len(raw)-1] == '"'
	}
	digits := raw
	if digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 19 {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// MaxDepth is the deepest nesting of arrays and objects Decode accepts.
const MaxDepth = 64

// ErrTooDeep is returned for input nested deeper than MaxDepth.
var ErrTooDeep = errors.New("json nested too deeply")

// Decode parses one message. A syntax error yields an *Error with
// CodeParseError; an envelope that is not JSON-RPC yields CodeInvalidRequest.
// The message does not alias data (its raw fields are copies), so callers
// may reuse data's buffer at once.
func Decode(data []byte) (*Message, *Error) {
	data = bytes.TrimSpace(data)
	// The fast path validates as it scans and gives up on anything
	// unusual, deep nesting included; what it accepts, the path below
	// would have decoded identically (see fast.go).
	if len(data) > 0 && data[0] == '{' {
		if m, ok := decodeFast(data); ok {
			if err := m.Validate(); err != nil {
				return nil, NewError(CodeInvalidRequest, "Invalid Request: "+err.Error())
			}
			return m, nil
		}
	}
	if err := checkDepth(data); err != nil {
		return nil, NewError(CodeParseError, "Parse error: "+err.Error())
	}
	if len(data) == 0 || data[0] != '{' {
		if json.Valid(data) {
			return nil, NewError(CodeInvalidRequest, "Invalid Request: expected a JSON object")
		}
		return nil, NewError(CodeParseError, "Parse error: invalid JSON")
	}
	var m Message
	if err := json.Unmarshal(data, &m); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) || !json.Valid(data) {
			return nil, NewError(CodeParseError, "Parse error: invalid JSON")
		}
		return nil, NewError(CodeInvalidRequest, "Invalid Request: "+typeErrorText(err))
	}
	if err := m.Validate(); err != nil {
		return nil, NewError(CodeInvalidRequest, "Invalid Request: "+err.Error())
	}
	return &m, nil
}

// DecodeBatch parses a body that may be one message or, when allowBatch is
// set, a JSON array of messages (JSON-RPC batching, MCP 2025-03-26 only).
// isBatch reports whether the body was an array.
func DecodeBatch(data []byte, allowBatch bool) (msgs []*Message, isBatch bool, rpcErr *Error) {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '[' {
		if err := checkDepth(data); err != nil {
			return nil, true, NewError(CodeParseError, "Parse error: "+err.Error())
		}
		var raws []json.RawMessage
		if err := json.Unmarshal(data, &raws); err != nil {
			return nil, true, NewError(CodeParseError, "Parse error: invalid JSON")
		}
		if !allowBatch {
			return nil, true, NewError(CodeInvalidRequest, "Invalid Request: JSON-RPC batches are not supported in this protocol version")
		}
		if len(raws) == 0 {
			return nil, true, NewError(CodeInvalidRequest, "Invalid Request: empty batch")
		}
		for _, r := range raws {
			m, e := Decode(r)
			if e != nil {
				return nil, true, e
			}
			msgs = append(msgs, m)
		}
		return msgs, true, nil
	}
	m, e := Decode(data)
	if e != nil {
		return nil, false, e
	}
	return []*Message{m}, false, nil
}

func typeErrorText(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q has the wrong type", te.Field)
	}
	return "malformed message"
}

// checkDepth refuses input nested deeper than MaxDepth, without allocating.
func checkDepth(data []byte) error {
	depth := 0
	inString, escaped := false, false
	for _, c := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > MaxDepth {
				return ErrTooDeep
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// Encode marshals m as one line of JSON. Raw fields are copied verbatim
// (compacted only if they span lines), so they must be valid JSON, as they
// are from Decode or json.Marshal.
func Encode(m *Message) []byte {
	b, err := appendMessage(make([]byte, 0, encodedSize(m)), m)
	if err != nil {
		// Only invalid raw JSON can fail here; raw fields come from Decode or
		// from json.Marshal, so this is a programming error.
		panic(fmt.Sprintf("jsonrpc: encoding message: %v", err))
	}
	return b
}

// AppendEncode appends m, encoded as Encode does, to b.
func AppendEncode(b []byte, m *Message) []byte {
	b, err := appendMessage(b, m)
	if err != nil {
		panic(fmt.Sprintf("jsonrpc: encoding message: %v", err))
	}
	return b
}

// MarshalJSON encodes m as Encode does, for json.Marshal of values that
// hold messages.
func (m *Message) MarshalJSON() ([]byte, error) {
	return appendMessage(make([]byte, 0, encodedSize(m)), m)
}

// encodedSize is a close upper estimate of m's encoding, to size its buffer.
func encodedSize(m *Message) int {
	n := 64 + len(m.ID) + len(m.Method) + len(m.Params) + len(m.Result)
	if m.Error != nil {
		n += 48 + len(m.Error.Message) + len(m.Error.Data)
	}
	return n
}

// NewResponse builds a success response for id.
func NewResponse(id json.RawMessage, result json.RawMessage) *Message {
	return &Message{JSONRPC: Version, ID: id, Result: result}
}

// NewErrorResponse builds an error response for id; id may be nil when the
// request's id could not be read.
func NewErrorResponse(id json.RawMessage, e *Error) *Message {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	return &Message{JSONRPC: Version, ID: id, Error: e}
}

// NewRequest builds a request.
func NewRequest(id json.RawMessage, method string, params json.RawMessage) *Message {
	return &Message{JSONRPC: Version, ID: id, Method: method, Params: params}
}

// NewNotification builds a notification.
func NewNotification(method string, params json.RawMessage) *Message {
	return &Message{JSONRPC: Version, Method: method, Params: params}
}

// MustRaw marshals v to raw JSON, panicking on failure; for values that
// always marshal (maps of strings, structs of plain fields).
func MustRaw(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("jsonrpc: marshaling %T: %v", v, err))
	}
	return b
}
