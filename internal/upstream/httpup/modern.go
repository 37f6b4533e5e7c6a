package httpup

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
	"github.com/mcpgate/mcpgate/internal/upstream/remote"
)

// The 2026-07-28 (stateless) era of Streamable HTTP (docs/protocol-eras.md
// §4.1, §2 rule 12). [SH26] is
// docs/specification/2026-07-28/basic/transports/streamable-http.mdx. A
// session switched to it by remote's probe sends every message as a POST
// carrying the request metadata headers [SH26 §Request Metadata]; it has
// no session id, opens no GET stream, never resumes a stream (resumption
// was removed [SH26 §Receiving Messages]) and sends no DELETE. The caller's
// context ending closes the POST's response stream, which is the
// cancellation [SH26 §Cancellation].

var _ remote.ModernSession = (*session)(nil)

// Modern implements remote.ModernSession.
func (s *session) Modern(version string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.modern = version != ""
	s.post = nil
	if s.modern {
		s.version = []string{version}
	} else {
		s.version = nil
	}
}

// isModern reports whether the session speaks the stateless era.
func (s *session) isModern() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.modern
}

// setModernHeaders adds the request metadata headers of message m to h
// [SH26 §Standard Request Headers, §Custom Headers from Tool Parameters]:
// Mcp-Method always, Mcp-Name for the methods that name their target, and
// the Mcp-Param-* headers the relay put in ctx. The body is not decoded:
// Mcp-Name is read with two top-level member lookups.
func setModernHeaders(ctx context.Context, h http.Header, m remote.Outgoing) {
	if m.Method == "" {
		return
	}
	h[mcp.HeaderMethod] = []string{m.Method}
	if field := mcp.NameField(m.Method); field != "" {
		if name, ok := nameOf(m.Body, field); ok {
			// [SH26 §Value Encoding]: a name outside the safe set goes
			// base64-encoded.
			h[mcp.HeaderName] = []string{mcp.EncodeHeaderValue(name)}
		}
	}
	for _, p := range upstream.ParamHeadersFrom(ctx) {
		h[http.CanonicalHeaderKey(mcp.HeaderParamPrefix+p.Name)] = []string{p.Value}
	}
}

// nameOf reads params.<field> of an encoded message as a string.
func nameOf(body []byte, field string) (string, bool) {
	params, ok := jsonrpc.Lookup(body, "params")
	if !ok {
		return "", false
	}
	raw, ok := jsonrpc.Lookup(params, field)
	if !ok || len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	if s, err := strconv.Unquote(string(raw)); err == nil && !hasBackslash(raw) {
		return s, true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

func hasBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}
