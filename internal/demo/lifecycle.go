package demo

import (
	"context"
	"encoding/json"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// ServerName is reported as serverInfo.name.
const ServerName = "mcpgate-demo"

// instructions is the initialize result's instructions text.
const instructions = "Demo MCP server built into mcpgate. It implements the conformance suite's " +
	"reference tools, resources and prompts, plus echo, add, slow, get_env, crash, " +
	"trigger_list_changed, update_watched_resource and list_roots for gateway tests."

// clientCapabilities records which client features the server may use
// [L §Capability Negotiation].
type clientCapabilities struct {
	Sampling    json.RawMessage `json:"sampling,omitempty"`
	Elicitation json.RawMessage `json:"elicitation,omitempty"`
	Roots       json.RawMessage `json:"roots,omitempty"`
}

type initializeParams struct {
	ProtocolVersion *string            `json:"protocolVersion"`
	Capabilities    clientCapabilities `json:"capabilities"`
	ClientInfo      json.RawMessage    `json:"clientInfo"`
}

type implementation struct {
	Name    string `json:"name"`
	Title   string `json:"title,omitempty"`
	Version string `json:"version"`
}

type initializeResult struct {
	ProtocolVersion string          `json:"protocolVersion"`
	Capabilities    json.RawMessage `json:"capabilities"`
	ServerInfo      implementation  `json:"serverInfo"`
	Instructions    string          `json:"instructions,omitempty"`
}

// Server capabilities. completions was added in 2025-03-26 (completion
// requests existed before without a capability) [L §Capability Negotiation].
var (
	capabilitiesWithCompletions = json.RawMessage(`{"tools":{"listChanged":true},"prompts":{"listChanged":true},` +
		`"resources":{"subscribe":true,"listChanged":true},"logging":{},"completions":{}}`)
	capabilities20241105 = json.RawMessage(`{"tools":{"listChanged":true},"prompts":{"listChanged":true},` +
		`"resources":{"subscribe":true,"listChanged":true},"logging":{}}`)
)

func handleInitialize(_ context.Context, s *server, r *request) (any, *jsonrpc.Error) {
	var p initializeParams
	if e := decodeParams(r.params, &p); e != nil {
		return nil, e
	}
	if p.ProtocolVersion == nil {
		return nil, invalidParams("protocolVersion is required")
	}
	// Answer the requested version when supported, else the latest
	// [L §Version Negotiation].
	version := mcp.Negotiate(*p.ProtocolVersion)

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.initialized {
		return nil, jsonrpc.NewError(jsonrpc.CodeInvalidRequest, "Invalid Request: already initialized")
	}
	s.initialized = true
	s.version = version
	s.clientCaps = p.Capabilities
	s.log.Info("client initialized", "protocolVersion", version, "requested", *p.ProtocolVersion, "clientInfo", string(p.ClientInfo))

	caps := capabilitiesWithCompletions
	if version < mcp.Version20250326 {
		caps = capabilities20241105
	}
	info := implementation{Name: ServerName, Version: s.opts.ServerVersion}
	if version >= mcp.Version20250618 { // Implementation.title: 2025-06-18
		info.Title = "mcpgate demo server"
	}
	return initializeResult{
		ProtocolVersion: version,
		Capabilities:    caps,
		ServerInfo:      info,
		Instructions:    instructions,
	}, nil
}

// negotiated returns the negotiated protocol version and the client's
// capabilities.
func (s *server) negotiated() (string, clientCapabilities) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version, s.clientCaps
}
