package mcpsession

import (
	"net/http"
	"strings"

	"github.com/mcpgate/mcpgate/internal/httpkit"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// The HTTP header rules both transports apply.

// Accepts reports whether the Accept header values allow application/json
// and text/event-stream. Wildcard ranges count; parameters are ignored
// except q=0, which refuses the range (RFC 9110 §12.5.1).
func Accepts(values []string) (json, sse bool) {
	for _, v := range values {
		for v != "" {
			var r string
			r, v, _ = strings.Cut(v, ",")
			mt, params, _ := strings.Cut(r, ";")
			mt = strings.TrimSpace(mt)
			if refused(params) {
				continue
			}
			switch {
			case mt == "*/*":
				json, sse = true, true
			case strings.EqualFold(mt, "application/json"), strings.EqualFold(mt, "application/*"):
				json = true
			case strings.EqualFold(mt, "text/event-stream"), strings.EqualFold(mt, "text/*"):
				sse = true
			}
		}
	}
	return json, sse
}

// refused reports whether media-range parameters carry q=0.
func refused(params string) bool {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, _ := strings.Cut(p, "=")
		if !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		v = strings.TrimSpace(v)
		if v == "0" || strings.HasPrefix(v, "0.") && strings.Trim(v[2:], "0") == "" {
			return true
		}
	}
	return false
}

// JSONContentType reports whether a Content-Type is application/json with
// no charset or charset UTF-8 (JSON-RPC messages MUST be UTF-8, [T]).
func JSONContentType(v string) bool {
	mt, params, _ := strings.Cut(v, ";")
	if !strings.EqualFold(strings.TrimSpace(mt), "application/json") {
		return false
	}
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, val, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), "charset") {
			val = strings.Trim(strings.TrimSpace(val), `"`)
			if !strings.EqualFold(val, "utf-8") && !strings.EqualFold(val, "utf8") {
				return false
			}
		}
	}
	return true
}

// VersionHeader returns the MCP-Protocol-Version header, or "" when absent.
// A header that is repeated or names an unsupported revision is an error:
// "If the server receives a request with an invalid or unsupported
// MCP-Protocol-Version, it MUST respond with 400 Bad Request"
// ([T §Protocol Version Header]).
func VersionHeader(r *http.Request) (string, bool) {
	vs := r.Header[mcp.HeaderProtocolVersion]
	switch {
	case len(vs) == 0:
		return "", true
	case len(vs) > 1 || !mcp.Supported(vs[0]):
		return "", false
	}
	return vs[0], true
}

// Header errors both transports answer with. Messages are public.
var (
	ErrNotAcceptableSSE = httpkit.NewError(http.StatusNotAcceptable, "not_acceptable",
		"Not Acceptable: Accept must list text/event-stream")
	ErrContentType = httpkit.NewError(http.StatusUnsupportedMediaType, "unsupported_media_type",
		"Unsupported Media Type: Content-Type must be application/json")
	ErrVersion = httpkit.NewError(http.StatusBadRequest, "unsupported_protocol_version",
		"Bad Request: unsupported MCP-Protocol-Version")
)
