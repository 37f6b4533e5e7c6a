package relay

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/upstream"
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

// initCache holds the InitializeResults built for the upstreams' Info as it
// was: every session that opens encodes the same bytes, so they are built
// once per version and rebuilt when an upstream (re)initializes.
type initCache struct {
	infos   []*upstream.Info           // each upstream's Info, in Register order
	results map[string]json.RawMessage // by negotiated version; never modified
}

// initializeResult returns the InitializeResult for version, from the cache
// while no upstream's Info has changed.
func (r *Relay) initializeResult(version string) json.RawMessage {
	cur := r.initCache.Load()
	fresh := cur != nil && len(cur.infos) == len(r.upstreams)
	for i := 0; fresh && i < len(r.upstreams); i++ {
		fresh = cur.infos[i] == r.upstreams[i].info()
	}
	if fresh {
		if res, ok := cur.results[version]; ok {
			return res
		}
	}
	next := &initCache{infos: make([]*upstream.Info, len(r.upstreams)), results: map[string]json.RawMessage{}}
	for i, u := range r.upstreams {
		next.infos[i] = u.info()
	}
	if fresh {
		for v, res := range cur.results {
			next.results[v] = res
		}
	}
	res := r.buildInitializeResult(version, next.infos)
	next.results[version] = res
	r.initCache.Store(next) // racing builders store equal results
	return res
}

// buildInitializeResult builds the InitializeResult for version from the
// upstreams' infos. Tools, prompts and resources are always advertised with
// listChanged: an upstream that starts later shows up through list_changed.
func (r *Relay) buildInitializeResult(version string, infos []*upstream.Info) json.RawMessage {
	caps := map[string]any{
		"tools":     map[string]bool{"listChanged": true},
		"prompts":   map[string]bool{"listChanged": true},
		"resources": map[string]bool{"listChanged": true, "subscribe": false},
	}
	var instructions []string
	subscribe := false
	for _, info := range infos {
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
