// Package mcp holds protocol facts the gateway routes on: the protocol
// revisions it speaks, method names, HTTP header names and version
// negotiation. It has no HTTP and no I/O.
package mcp

import "slices"

// Protocol revisions.
const (
	Version20241105 = "2024-11-05"
	Version20250326 = "2025-03-26"
	Version20250618 = "2025-06-18"
	Version20251125 = "2025-11-25"
	Version20260728 = "2026-07-28"
)

// Latest is the newest session-era revision the gateway negotiates.
const Latest = Version20251125

// SessionVersions are the revisions served with initialize and sessions,
// newest first.
var SessionVersions = []string{Version20251125, Version20250618, Version20250326, Version20241105}

// StreamableVersions are the session-era revisions served on the Streamable
// HTTP endpoint, newest first (2024-11-05 clients use the legacy SSE
// transport but may still arrive on /mcp; they are accepted too).
var StreamableVersions = SessionVersions

// Supported reports whether v is a session-era revision the gateway speaks.
func Supported(v string) bool { return slices.Contains(SessionVersions, v) }

// Negotiate picks the revision to answer an initialize that asked for
// requested: the same one when supported, else the latest
// ([L §Version Negotiation]).
func Negotiate(requested string) string {
	if Supported(requested) {
		return requested
	}
	return Latest
}

// AllowsBatch reports whether JSON-RPC batches are allowed in revision v
// (only 2025-03-26 requires receiving them [B0326 §Batching]; removed in
// 2025-06-18 [CL06]).
func AllowsBatch(v string) bool { return v == Version20250326 }

// SendsPriming reports whether SSE streams of revision v start with a
// priming event (an id with empty data) and carry retry [T §Sending Messages 6].
func SendsPriming(v string) bool { return v >= Version20251125 }

// HasCompletions reports whether revision v has the server capability
// "completions" (added in 2025-03-26 [CL0326]; 2024-11-05 clients do not
// know it, though completion/complete itself exists there).
func HasCompletions(v string) bool { return v >= Version20250326 }

// HasElicitation reports whether revision v has elicitation/create and the
// client capability "elicitation" (added in 2025-06-18 [CL06]).
func HasElicitation(v string) bool { return v >= Version20250618 }

// HTTP header names.
const (
	HeaderSessionID       = "Mcp-Session-Id"
	HeaderProtocolVersion = "Mcp-Protocol-Version"
	HeaderLastEventID     = "Last-Event-Id"
)

// Methods the gateway routes on.
const (
	MethodInitialize             = "initialize"
	MethodPing                   = "ping"
	MethodToolsList              = "tools/list"
	MethodToolsCall              = "tools/call"
	MethodPromptsList            = "prompts/list"
	MethodPromptsGet             = "prompts/get"
	MethodResourcesList          = "resources/list"
	MethodResourcesTemplatesList = "resources/templates/list"
	MethodResourcesRead          = "resources/read"
	MethodResourcesSubscribe     = "resources/subscribe"
	MethodResourcesUnsubscribe   = "resources/unsubscribe"
	MethodCompletionComplete     = "completion/complete"
	MethodLoggingSetLevel        = "logging/setLevel"

	MethodSamplingCreateMessage = "sampling/createMessage"
	MethodElicitationCreate     = "elicitation/create"
	MethodRootsList             = "roots/list"

	NotificationInitialized          = "notifications/initialized"
	NotificationCancelled            = "notifications/cancelled"
	NotificationProgress             = "notifications/progress"
	NotificationMessage              = "notifications/message"
	NotificationToolsListChanged     = "notifications/tools/list_changed"
	NotificationPromptsListChanged   = "notifications/prompts/list_changed"
	NotificationResourcesListChanged = "notifications/resources/list_changed"
	NotificationResourceUpdated      = "notifications/resources/updated"
	NotificationRootsListChanged     = "notifications/roots/list_changed"
)
