package relay

import (
	"encoding/json"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// declared reports whether a clientCapabilities object declares name (any
// value but null) [B26 §_meta].
func declared(caps json.RawMessage, name string) bool {
	v, ok := jsonrpc.Lookup(caps, name)
	return ok && string(v) != "null"
}

// validInputResponse checks a client's answer against the result its
// request calls for (S26 ElicitResult, CreateMessageResult,
// ListRootsResult) before it goes to the upstream
// ("sep-2322-validate-input-responses"). The shape is checked, not every
// field: the upstream validates what it reads.
func validInputResponse(method string, raw json.RawMessage) bool {
	switch method {
	case mcp.MethodElicitationCreate:
		var r struct {
			Action  string          `json:"action"`
			Content json.RawMessage `json:"content"`
		}
		if json.Unmarshal(raw, &r) != nil || !isObject(raw) {
			return false
		}
		switch r.Action {
		case "accept", "decline", "cancel":
		default:
			return false
		}
		return len(r.Content) == 0 || string(r.Content) == "null" || isObject(r.Content)
	case mcp.MethodSamplingCreateMessage:
		var r struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
			Model   *string         `json:"model"`
		}
		if json.Unmarshal(raw, &r) != nil || !isObject(raw) {
			return false
		}
		return (r.Role == "assistant" || r.Role == "user") && r.Model != nil &&
			(isObject(r.Content) || len(r.Content) > 0 && r.Content[0] == '[')
	case mcp.MethodRootsList:
		var r struct {
			Roots []struct {
				URI string `json:"uri"`
			} `json:"roots"`
		}
		if json.Unmarshal(raw, &r) != nil || r.Roots == nil {
			return false
		}
		for _, root := range r.Roots {
			if root.URI == "" {
				return false
			}
		}
		return true
	}
	return isObject(raw)
}

func isObject(raw json.RawMessage) bool {
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c == '{'
	}
	return false
}

// withoutMembers returns obj without the named top-level members (the slow
// path: only retries carry them). obj is returned as it is when it lacks
// them or is not an object.
func withoutMembers(obj json.RawMessage, keys ...string) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(obj, &m) != nil || m == nil {
		return obj
	}
	for _, k := range keys {
		delete(m, k)
	}
	return jsonrpc.MustRaw(m)
}

// withoutInputKey removes the gateway's key hint (mcp.MetaInputKey) from a
// server→client request's params before they reach the client in
// inputRequests; _meta goes too when nothing else is left in it.
func withoutInputKey(params json.RawMessage) json.RawMessage {
	meta, ok := jsonrpc.Lookup(params, "_meta")
	if !ok {
		return params
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(meta, &m) != nil {
		return params
	}
	if _, ok := m[mcp.MetaInputKey]; !ok {
		return params
	}
	delete(m, mcp.MetaInputKey)
	var obj map[string]json.RawMessage
	_ = json.Unmarshal(params, &obj)
	if len(m) == 0 {
		delete(obj, "_meta")
	} else {
		obj["_meta"] = jsonrpc.MustRaw(m)
	}
	return jsonrpc.MustRaw(obj)
}
