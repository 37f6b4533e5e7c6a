package relay

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/principal"
)

type initializeParams struct {
	ProtocolVersion *string         `json:"protocolVersion"`
	Capabilities    json.RawMessage `json:"capabilities"`
	ClientInfo      json.RawMessage `json:"clientInfo"`
}

type clientCapsWire struct {
	Sampling    json.RawMessage `json:"sampling"`
	Elicitation json.RawMessage `json:"elicitation"`
	Roots       json.RawMessage `json:"roots"`
}

// Initialize answers a client's initialize request: it negotiates the
// protocol revision ([L §Version Negotiation]: the requested one if
// supported, else the latest) and advertises the union of what the upstreams
// offer. The caller creates the session.
func (r *Relay) Initialize(ctx context.Context, p principal.Principal, params json.RawMessage) (*InitializeResult, *jsonrpc.Error) {
	var in initializeParams
	if len(params) == 0 || json.Unmarshal(params, &in) != nil || in.ProtocolVersion == nil {
		return nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params: initialize needs protocolVersion, capabilities and clientInfo")
	}
	version := mcp.Negotiate(*in.ProtocolVersion)
	caps := ClientCapabilities{Raw: in.Capabilities}
	if len(in.Capabilities) > 0 {
		var w clientCapsWire
		if json.Unmarshal(in.Capabilities, &w) != nil {
			return nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params: capabilities must be an object")
		}
		caps.Sampling = present(w.Sampling)
		// A capability newer than the negotiated revision is not routed on
		// (elicitation arrived in 2025-06-18).
		caps.Elicitation = present(w.Elicitation) && mcp.HasElicitation(version)
		caps.Roots = present(w.Roots)
	}
	return &InitializeResult{
		Result:          r.initializeResult(version),
		ProtocolVersion: version,
		Capabilities:    caps,
		ClientInfo:      in.ClientInfo,
	}, nil
}

func present(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }

// initializeResult builds the InitializeResult for version. Tools, prompts
// and resources are always advertised with listChanged: an upstream that
// starts later shows up through list_changed.
func (r *Relay) initializeResult(version string) json.RawMessage {
	caps := map[string]any{
		"tools":     map[string]bool{"listChanged": true},
		"prompts":   map[string]bool{"listChanged": true},
		"resources": map[string]bool{"listChanged": true, "subscribe": false},
	}
	var instructions []string
	subscribe := false
	for _, u := range r.upstreams {
		info := u.Conn.Info()
		if info == nil {
			continue
		}
		if info.Capabilities.Logging != nil {
			caps["logging"] = struct{}{}
		}
		// A client gets no capability newer than its revision: a
		// 2024-11-05 client does not know "completions".
		if info.Capabilities.Completions != nil && mcp.HasCompletions(version) {
			caps["completions"] = struct{}{}
		}
		if res := info.Capabilities.Resources; res != nil && res.Subscribe {
			subscribe = true
		}
		if info.Instructions != "" {
			instructions = append(instructions, info.Instructions)
		}
	}
	caps["resources"] = map[string]bool{"listChanged": true, "subscribe": subscribe}
	res := map[string]any{
		"protocolVersion": version,
		"capabilities":    caps,
		"serverInfo":      map[string]string{"name": r.opts.ServerName, "version": r.opts.ServerVersion},
	}
	switch {
	case r.opts.Instructions != "":
		res["instructions"] = r.opts.Instructions
	case len(instructions) > 0:
		res["instructions"] = strings.Join(instructions, "\n\n")
	}
	return jsonrpc.MustRaw(res)
}
