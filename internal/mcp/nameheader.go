package mcp

import (
	"encoding/json"
	"strings"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
)

// CheckNameHeader applies the Mcp-Name rule of [SH26 §Standard Request
// Headers, §Value Encoding] to a stateless request: when params carries
// the string member NameField(method) names, the Mcp-Name header (values,
// as received) must be sent once and equal it after DecodeHeaderValue;
// surrounding whitespace is not part of a field value (RFC 9110 §5.5).
// It returns "" when the request passes, else the problem, for a
// CodeHeaderMismatch error.
func CheckNameHeader(values []string, method string, params json.RawMessage) string {
	field := NameField(method)
	if field == "" {
		return ""
	}
	var want *string
	if raw, ok := jsonrpc.Lookup(params, field); ok {
		if s, plain := jsonrpc.PlainString(raw); plain {
			str := string(s) // the common case, without encoding/json
			want = &str
		} else {
			_ = json.Unmarshal(raw, &want)
		}
	}
	switch {
	case want == nil:
		return ""
	case len(values) != 1:
		return "Mcp-Name is required with params." + field
	}
	if v, ok := DecodeHeaderValue(strings.TrimSpace(values[0])); !ok || v != *want {
		return "Mcp-Name must equal params." + field
	}
	return ""
}
