package mcp

import (
	"encoding/base64"
	"slices"
	"strings"
)

// The 2026-07-28 stateless era ([B26] = docs/specification/2026-07-28/basic/index.mdx,
// [SH26] = …/basic/transports/streamable-http.mdx). See docs/protocol-eras.md.

// ModernVersions are the revisions served statelessly (no initialize, no
// session; every request carries its version in _meta), newest first.
var ModernVersions = []string{Version20260728}

// AllVersions are every revision the endpoint serves, modern first: the
// supportedVersions of server/discover.
var AllVersions = []string{Version20260728, Version20251125, Version20250618, Version20250326, Version20241105}

// IsModern reports whether v is a revision served statelessly.
func IsModern(v string) bool { return slices.Contains(ModernVersions, v) }

// Stateless-era HTTP headers [SH26 §Request Metadata]. Header names are
// case-insensitive; these are the canonical forms for direct map access.
const (
	HeaderMethod      = "Mcp-Method"
	HeaderName        = "Mcp-Name"
	HeaderParamPrefix = "Mcp-Param-"
)

// Stateless-era methods.
const (
	MethodServerDiscover      = "server/discover"
	MethodSubscriptionsListen = "subscriptions/listen"
	MethodTasksGet            = "tasks/get"
	MethodTasksUpdate         = "tasks/update"
	MethodTasksCancel         = "tasks/cancel"

	// NotificationSubscriptionsAcknowledged is the first message of a
	// subscriptions/listen stream [SUB §Acknowledgment].
	NotificationSubscriptionsAcknowledged = "notifications/subscriptions/acknowledged"
)

// _meta keys of the stateless era [B26 §_meta].
const (
	MetaProtocolVersion    = "io.modelcontextprotocol/protocolVersion"
	MetaClientInfo         = "io.modelcontextprotocol/clientInfo"
	MetaClientCapabilities = "io.modelcontextprotocol/clientCapabilities"
	MetaLogLevel           = "io.modelcontextprotocol/logLevel"
	MetaServerInfo         = "io.modelcontextprotocol/serverInfo"
	// MetaSubscriptionID tags every notification of a subscriptions/listen
	// stream with the listen request's id [SUB §Notifications].
	MetaSubscriptionID = "io.modelcontextprotocol/subscriptionId"
)

// JSON-RPC error codes of the stateless era [B26 §Error Codes].
const (
	// CodeHeaderMismatch: an MCP request header is missing, malformed or
	// disagrees with the body [SH26 §Server Validation].
	CodeHeaderMismatch = -32020
	// CodeMissingClientCapability: the request needs a client capability
	// its _meta does not declare; data.requiredCapabilities.
	CodeMissingClientCapability = -32021
	// CodeUnsupportedProtocolVersion: data.supported and data.requested.
	CodeUnsupportedProtocolVersion = -32022
)

// DecodeHeaderValue decodes an Mcp-Name or Mcp-Param-* value
// [SH26 §Value Encoding]: a value wrapped as =?base64?…?= is strict
// standard base64 (padding required, standard alphabet) of UTF-8 text; any
// other value, including one with only one of the two markers, is literal.
// ok is false for a wrapped value that does not decode.
func DecodeHeaderValue(v string) (string, bool) {
	const prefix, suffix = "=?base64?", "?="
	if len(v) < len(prefix)+len(suffix) || !strings.HasPrefix(v, prefix) || !strings.HasSuffix(v, suffix) {
		return v, true
	}
	b, err := base64.StdEncoding.Strict().DecodeString(v[len(prefix) : len(v)-len(suffix)])
	if err != nil {
		return "", false
	}
	return string(b), true
}
