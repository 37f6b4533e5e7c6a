// Package config defines mcpgate's configuration: its types, strict YAML
// loading, environment and command-line overrides, defaults and validation.
//
// A configuration is built in layers, each overriding the one before:
// defaults < YAML file (or --stdio, or the built-in demo) < environment <
// command-line flags. Resolve does all of that; Parse, Load, SetDefaults and
// Validate are the pieces. Nothing in this package starts anything: it only
// describes what the gateway should do.
//
// Field docs say what each zero value means; SetDefaults writes those
// meanings in, so code that reads a resolved Config never sees a zero that
// stands for something else. YAML keys are snake_case; durations are Go
// duration strings ("30s", "15m", "1h30m").
package config

import (
	"time"

	"github.com/mcpgate/mcpgate/internal/secret"
)

// Config is the whole gateway configuration.
type Config struct {
	// Listen is the address of the MCP listener, host:port. Zero means
	// DefaultListen (loopback only). Port 0 picks a free port. A host other
	// than a loopback address exposes the gateway to the network.
	Listen string `yaml:"listen,omitempty"`
	// PublicHosts are the Host header values accepted on a listener that
	// is not loopback: "name" (any port) or "name:port". Nil means the Host
	// is not checked there (a warning at start). Loopback listeners accept
	// only loopback Hosts (localhost, 127.0.0.1, [::1]) plus these.
	PublicHosts []string `yaml:"public_hosts,omitempty"`
	// AllowedOrigins are the browser origins ("scheme://host[:port]")
	// allowed to call the gateway: a request with another Origin gets 403
	// (DNS rebinding), and CORS answers only these. Loopback listeners also
	// accept loopback origins (without CORS). Nil means not configured,
	// which a non-loopback listener refuses unless
	// InsecureAllowUnprotectedNetwork; an empty list ([]) means no browser
	// origin at all. "*" is not allowed.
	AllowedOrigins Origins `yaml:"allowed_origins"`
	// InsecureAllowUnprotectedNetwork lets a listener that is not loopback
	// start without client authentication or without AllowedOrigins. The
	// gateway then logs a warning at start and reports it on /health.
	// Zero (false) refuses such a configuration.
	InsecureAllowUnprotectedNetwork bool `yaml:"insecure_allow_unprotected_network,omitempty"`
	// Auth configures client authentication.
	Auth Auth `yaml:"auth,omitempty"`
	// CORS configures cross-origin access by browser pages.
	CORS CORS `yaml:"cors,omitempty"`
	// Limits bound what each user may use.
	Limits Limits `yaml:"limits,omitempty"`
	// Admin configures the admin listener (stats, broadcast); off unless
	// admin.token is set.
	Admin Admin `yaml:"admin,omitempty"`
	// Info is how the gateway introduces itself to clients.
	Info Info `yaml:"info,omitempty"`
	// Sessions bounds client sessions.
	Sessions Sessions `yaml:"sessions,omitempty"`
	// HTTP bounds the HTTP side of the gateway.
	HTTP HTTP `yaml:"http,omitempty"`
	// EventLog bounds the per-stream logs kept for SSE resumption.
	EventLog EventLog `yaml:"event_log,omitempty"`
	// Namespace says how upstreams' tool and prompt names are combined.
	Namespace Namespace `yaml:"namespace,omitempty"`
	// Caching says how long upstream lists are trusted and the caching
	// hints sent to 2026-07-28 clients (stateless.go).
	Caching Caching `yaml:"caching,omitempty"`
	// MRTR configures multi-round-trip requests for 2026-07-28 clients of
	// session-era upstreams (mrtr.go).
	MRTR MRTR `yaml:"mrtr,omitempty"`
	// GC tunes the garbage collector of the gateway process (gc.go).
	GC GC `yaml:"gc,omitempty"`
	// Upstreams are the MCP servers behind the gateway, in order. The order
	// matters: it is the order of aggregated lists, and the first upstream
	// wins a contested resource URI. At least one is required.
	Upstreams []Upstream `yaml:"upstreams"`
}

// Info is the serverInfo the gateway reports in initialize results.
type Info struct {
	// Name is serverInfo.name. Zero means DefaultName ("mcpgate").
	Name string `yaml:"name,omitempty"`
	// Version is serverInfo.version. Zero means the version the mcpgate
	// binary was built as; SetDefaults leaves it empty for the gateway to
	// fill in.
	Version string `yaml:"version,omitempty"`
}

// Sessions bounds client sessions.
type Sessions struct {
	// Max is how many sessions may be open at once; a client asking for
	// one more gets an error (HTTP 503), and no live session is evicted.
	// Zero means DefaultMaxSessions (10000).
	Max int `yaml:"max,omitempty"`
	// MaxPerUser is how many sessions one user (principal) may hold; one
	// more gets HTTP 503. Zero means DefaultMaxSessionsPerUser (1000) with
	// client authentication, and only Max with auth mode none.
	MaxPerUser int `yaml:"max_per_user,omitempty"`
	// IdleTimeout is how long a session may go without a request before it
	// is closed. Zero means DefaultIdleTimeout (30m).
	IdleTimeout time.Duration `yaml:"idle_timeout,omitempty"`
}

// HTTP bounds the HTTP side of the gateway.
type HTTP struct {
	// MaxBodyBytes is the largest request body accepted, in bytes; a
	// larger one gets HTTP 413. Zero means DefaultMaxBodyBytes (4 MiB).
	MaxBodyBytes int64 `yaml:"max_body_bytes,omitempty"`
	// HeartbeatInterval is how often an idle SSE stream gets a comment
	// line, so that proxies do not cut it. Zero means
	// DefaultHeartbeatInterval (15s).
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval,omitempty"`
	// KeepIdleStreamsInHandlers keeps idle HTTP/1.x SSE streams on
	// net/http's connection goroutines instead of taking their
	// connections over (parking them: about 11 kB per idle stream
	// instead of about 40). Zero (false) parks them; set it only to rule
	// parking out when diagnosing a proxy or client problem.
	KeepIdleStreamsInHandlers bool `yaml:"keep_idle_streams_in_handlers,omitempty"`
	// NetHTTPOnly serves every request of the MCP listener with net/http's
	// server. Zero (false) serves plain POSTs to /mcp and /messages, and
	// DELETEs of /mcp, on the fast lane (internal/httpfront: a lean
	// connection loop, the same request parser; about 11 µs less CPU per
	// request); set it only to rule the fast lane out when diagnosing a
	// client or proxy problem.
	NetHTTPOnly bool `yaml:"net_http_only,omitempty"`
	// ShutdownTimeout bounds a graceful shutdown: how long open requests
	// may run on after a stop signal. Zero means DefaultShutdownTimeout
	// (10s).
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout,omitempty"`
}

// EventLog bounds the per-stream logs of server→client messages that let a
// client resume an SSE stream with Last-Event-ID (MCP Streamable HTTP
// §Resumability and Redelivery).
type EventLog struct {
	// MaxEventsPerStream is how many events a stream retains. Zero means
	// DefaultMaxEventsPerStream (1024).
	MaxEventsPerStream int `yaml:"max_events_per_stream,omitempty"`
	// MaxBytesPerStream is how many bytes of events a stream retains, and
	// so the largest single event. Zero means DefaultMaxBytesPerStream
	// (1 MiB).
	MaxBytesPerStream int64 `yaml:"max_bytes_per_stream,omitempty"`
	// MaxStreamsPerSession is how many streams a session holds, live or
	// completed (each POST answered with SSE is one, and so is the GET
	// stream). Zero means DefaultMaxStreamsPerSession (128).
	MaxStreamsPerSession int `yaml:"max_streams_per_session,omitempty"`
}

// Namespace says how names from several upstreams are kept apart: a tool
// "read" of upstream "fs" is listed as "fs__read".
type Namespace struct {
	// Separator joins an upstream's name and a tool's or prompt's name.
	// Zero means DefaultSeparator ("__"). It may use only the characters
	// MCP allows in tool names (A-Z a-z 0-9 _ - .), and no upstream name
	// may contain it.
	Separator string `yaml:"separator,omitempty"`
	// PrefixSingle prefixes names even when only one upstream is enabled.
	// Zero (false) means a lone upstream's names are exposed unchanged.
	PrefixSingle bool `yaml:"prefix_single,omitempty"`
}

// Upstream types.
const (
	TypeStdio = "stdio" // a local process speaking newline-delimited JSON-RPC on stdin/stdout
	TypeHTTP  = "http"  // a remote server speaking Streamable HTTP (2025-03-26 and later)
	TypeSSE   = "sse"   // a remote server speaking the HTTP+SSE transport of 2024-11-05
)

// Upstream is one MCP server behind the gateway.
type Upstream struct {
	// Name identifies the upstream in logs, in namespaced tool and prompt
	// names, and in the admin API. Required; unique; 1 to 64 characters of
	// a-z, 0-9 and '-'; it must not contain the namespace separator.
	Name string `yaml:"name"`
	// Type is how the gateway reaches the upstream: TypeStdio, TypeHTTP or
	// TypeSSE. Zero means TypeStdio.
	Type string `yaml:"type,omitempty"`

	// URL is a remote upstream's address (http and sse; required there,
	// not allowed for stdio): the MCP endpoint of a Streamable HTTP server,
	// or the SSE endpoint of an HTTP+SSE one. http:// or https://, with no
	// user info and no fragment.
	URL string `yaml:"url,omitempty"`
	// Headers are sent with every request to a remote upstream. A value
	// "env:NAME" or "file:/path" is a secret, read at start and never
	// logged; any other value is sent as written. The transport's own
	// headers and the credential header may not be set here. Nil sends
	// none.
	Headers map[string]string `yaml:"headers,omitempty"`
	// HeaderSecrets are Headers' resolved values, read by Resolve. Not
	// configurable.
	HeaderSecrets map[string]secret.String `yaml:"-"`

	// Command is the program to run (stdio). Required for stdio. Without a
	// slash it is looked up in the gateway's PATH; a relative path is
	// relative to the gateway's working directory, not to the config file.
	Command string `yaml:"command,omitempty"`
	// Args are the program's arguments, passed as they are: no shell, no
	// expansion.
	Args []string `yaml:"args,omitempty"`
	// Env holds environment variables for the process, on top of the few
	// it inherits from the gateway (PATH, HOME, LANG, TMPDIR). Values are
	// literal: no ${VAR} expansion. Nil adds nothing.
	Env map[string]string `yaml:"env,omitempty"`
	// Dir is the process's working directory. Zero means the gateway's.
	Dir string `yaml:"dir,omitempty"`

	// CallTimeout bounds each request forwarded to this upstream. Zero
	// means DefaultCallTimeout (60s).
	CallTimeout time.Duration `yaml:"call_timeout,omitempty"`
	// InitTimeout bounds the initialize handshake after each start. Zero
	// means DefaultInitTimeout (30s).
	InitTimeout time.Duration `yaml:"init_timeout,omitempty"`
	// Protocol is the upstream's protocol era (protocol.go): ProtocolAuto
	// probes with server/discover at start and falls back to initialize;
	// ProtocolModern speaks only 2026-07-28 (no initialize); ProtocolLegacy
	// only initializes (no probe). Zero means ProtocolAuto.
	Protocol string `yaml:"protocol,omitempty"`
	// ProbeTimeout bounds the server/discover probe of ProtocolAuto: an
	// upstream silent that long is treated as session-era. Zero means
	// DefaultProbeTimeout (3s).
	ProbeTimeout time.Duration `yaml:"probe_timeout,omitempty"`
	// FallbackSSE lets a type http upstream fall back to the 2024-11-05
	// HTTP+SSE transport on the same URL when the server refuses the
	// initialize POST with 400, 404 or 405 (remote_era.go). Zero (false)
	// means such a refusal is an error.
	FallbackSSE bool `yaml:"fallback_sse,omitempty"`
	// RestartBackoff bounds the wait before restarting a failed upstream.
	RestartBackoff Backoff `yaml:"restart_backoff,omitempty"`
	// Disabled keeps the upstream configured (and validated) but not
	// started. Zero (false) means it is started.
	Disabled bool `yaml:"disabled,omitempty"`

	// PerUser runs one process of this stdio upstream (or one connection
	// of this remote upstream) per user, started on the user's first call
	// and stopped when idle, so that each holds one user's credential and
	// state. Zero (false) means one shared by every user.
	PerUser bool `yaml:"per_user,omitempty"`
	// Credential is what the gateway presents to the upstream on the
	// user's behalf. Zero means none.
	Credential Credential `yaml:"credential,omitempty"`
}

// Backoff bounds an exponential backoff: the first wait is Min, each
// consecutive failure doubles it, up to Max.
type Backoff struct {
	// Min is the first wait. Zero means DefaultBackoffMin (250ms).
	Min time.Duration `yaml:"min,omitempty"`
	// Max is the longest wait. Zero means DefaultBackoffMax (30s), or Min
	// if that is longer.
	Max time.Duration `yaml:"max,omitempty"`
}

// Enabled returns the upstreams that are not disabled, in order.
func (c *Config) Enabled() []Upstream {
	out := make([]Upstream, 0, len(c.Upstreams))
	for _, u := range c.Upstreams {
		if !u.Disabled {
			out = append(out, u)
		}
	}
	return out
}
