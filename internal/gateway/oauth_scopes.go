package gateway

import (
	"github.com/mcpgate/mcpgate/internal/authserver"
	"github.com/mcpgate/mcpgate/internal/httpkit"
)

// oauthRequestChain is what auth mode oauth adds to the MCP endpoints
// after authentication (nil when nothing): the per-tool scope check
// (auth.oauth.tool_scopes: a tools/call of a tool whose scopes the token
// lacks gets 403 with an insufficient_scope challenge), and, when an
// upstream has credential type oauth, the authorization server in each
// request's context so that upstream gets the user's own IdP token
// (oauth_upstream.go).
func (g *Gateway) oauthRequestChain(writeError httpkit.ErrorWriter) httpkit.Middleware {
	if g.oauth == nil {
		return nil
	}
	var chain []httpkit.Middleware
	if len(g.cfg.Auth.OAuth.ToolScopes) > 0 {
		chain = append(chain, g.oauth.toolScopes.Middleware(&authserver.ToolScopeOptions{
			Realm:            g.cfg.Auth.Realm,
			ResourceMetadata: g.oauth.ResourceMetadataURL(),
			MaxBodyBytes:     g.cfg.HTTP.MaxBodyBytes,
			WriteError:       writeError,
			Logger:           g.log.With("component", "auth"),
		}))
	}
	if g.needsUpstreamTokens() {
		chain = append(chain, g.oauth.UpstreamContext)
	}
	if len(chain) == 0 {
		return nil
	}
	return httpkit.Chain(chain...)
}
