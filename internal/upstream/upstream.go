// Package upstream defines how the gateway talks to the MCP servers behind
// it: the Conn interface every transport implements (stdio, remote Streamable
// HTTP, remote SSE), the Info learned at initialize, and the Pool that starts,
// holds and stops them.
//
// It owns upstream lifecycles and the upstream side of JSON-RPC (its own
// request ids). It must not know about client sessions: routing back to
// clients is the relay's job, through Handler.
package upstream

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
)

// State is an upstream connection's health.
type State string

const (
	StateStarting   State = "starting"   // process starting or initializing
	StateReady      State = "ready"      // initialized; calls are served
	StateRestarting State = "restarting" // died; waiting out the backoff
	StateStopped    State = "stopped"    // stopped for good
)

// ErrUnavailable is returned by Call when the upstream is not ready or died
// with the call in flight.
var ErrUnavailable = errors.New("upstream unavailable")

// Info is what the upstream said at initialize.
type Info struct {
	ProtocolVersion string          `json:"protocolVersion"`
	Capabilities    Capabilities    `json:"capabilities"`
	ServerInfo      json.RawMessage `json:"serverInfo,omitempty"`
	Instructions    string          `json:"instructions,omitempty"`
	// Raw is the whole InitializeResult (or DiscoverResult) as received.
	Raw json.RawMessage `json:"-"`
	// Era is how the upstream is spoken to (era.go): EraSession (the zero
	// value) after initialize, EraModern after server/discover.
	Era Era `json:"-"`
	// SupportedVersions are the revisions a modern upstream listed in its
	// DiscoverResult; nil for session-era upstreams.
	SupportedVersions []string `json:"supportedVersions,omitempty"`
}

// Capabilities is the subset of ServerCapabilities the gateway routes on.
type Capabilities struct {
	Tools       *ListCap        `json:"tools,omitempty"`
	Prompts     *ListCap        `json:"prompts,omitempty"`
	Resources   *ResourcesCap   `json:"resources,omitempty"`
	Logging     json.RawMessage `json:"logging,omitempty"`
	Completions json.RawMessage `json:"completions,omitempty"`
	// Extensions are a modern upstream's declared extensions (e.g.
	// io.modelcontextprotocol/tasks), raw; nil when it declared none.
	Extensions json.RawMessage `json:"extensions,omitempty"`
	// Experimental and other fields are not routed on and not merged.
}

// ListCap is the capability of a listable feature.
type ListCap struct {
	ListChanged bool `json:"listChanged,omitempty"`
}

// ResourcesCap is the resources capability.
type ResourcesCap struct {
	Subscribe   bool `json:"subscribe,omitempty"`
	ListChanged bool `json:"listChanged,omitempty"`
}

// Conn is a supervised connection to one upstream MCP server. It survives
// restarts of the process or connection behind it; Info may change after a
// restart, which is reported through Handler.UpstreamReady.
type Conn interface {
	// Name is the upstream's configured name.
	Name() string
	// State is the current health.
	State() State
	// Info returns the latest InitializeResult, or nil before the first one.
	Info() *Info
	// Call sends a request with a fresh upstream id and waits for the
	// response, which it returns with the id it was sent with (the caller
	// restores its own). If ctx ends first, Call sends
	// notifications/cancelled upstream and returns ctx.Err(). If the
	// upstream dies or is not ready, it returns an error wrapping
	// ErrUnavailable; it never hangs on a dead upstream.
	Call(ctx context.Context, method string, params json.RawMessage) (*jsonrpc.Message, error)
	// Notify sends a notification.
	Notify(ctx context.Context, method string, params json.RawMessage) error
	// Respond answers a request the upstream sent (msg carries the
	// upstream's own id).
	Respond(ctx context.Context, msg *jsonrpc.Message) error
}

// Handler receives what upstreams send on their own: notifications and
// server→client requests, and readiness changes. Calls must not block for
// long; they run on the upstream's read loop.
type Handler interface {
	// UpstreamMessage is a notification or a request from upstream name.
	UpstreamMessage(name string, msg *jsonrpc.Message)
	// UpstreamReady reports that name (re)initialized; info is fresh.
	UpstreamReady(name string, info *Info)
}
