package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/upstream"
	"github.com/mcpgate/mcpgate/internal/upstream/httpup"
	"github.com/mcpgate/mcpgate/internal/upstream/peruser"
	"github.com/mcpgate/mcpgate/internal/upstream/remote"
	"github.com/mcpgate/mcpgate/internal/upstream/sseup"
)

// remoteReadyWait is how long a call to a remote upstream that is
// reconnecting (a new session after a 404, say) waits for it before
// failing.
const remoteReadyWait = 5 * time.Second

// isRemote reports whether u is reached over HTTP.
func isRemote(u config.Upstream) bool {
	return u.Type == config.TypeHTTP || u.Type == config.TypeSSE
}

// remoteClient returns the HTTP client every remote upstream shares: one
// tuned transport, so that their connections are pooled together, and no
// redirects, so that no credential is carried elsewhere.
func (g *Gateway) remoteClient() *http.Client {
	g.remoteOnce.Do(func() {
		g.remoteTransport = remote.NewRoundTripper()
		g.remoteHTTP = remote.NewClient(g.remoteTransport)
	})
	return g.remoteHTTP
}

// remoteHeader is what every request to u carries: its static headers and
// the credential the configuration gives the user of ctx (none, static,
// per_user or passthrough). The values are secrets: never logged.
func remoteHeader(ctx context.Context, u config.Upstream) (http.Header, error) {
	h := make(http.Header, len(u.HeaderSecrets)+1)
	for k, v := range u.HeaderSecrets {
		h.Set(k, v.Reveal())
	}
	if err := setCredentialHeader(ctx, u, h); err != nil {
		return nil, err
	}
	return h, nil
}

// newRemote builds the connection to a remote upstream with header on
// every request.
func (g *Gateway) newRemote(u config.Upstream, header http.Header, clientInfo json.RawMessage, h upstream.Handler, log *slog.Logger) (peruser.Conn, error) {
	opts := remote.Options{
		Name:              u.Name,
		ClientInfo:        clientInfo,
		InitTimeout:       u.InitTimeout,
		RestartBackoffMin: u.RestartBackoff.Min,
		RestartBackoffMax: u.RestartBackoff.Max,
		ReadyWait:         remoteReadyWait,
		Protocol:          upstreamProtocol(u.Protocol),
		ProbeTimeout:      u.ProbeTimeout,
		EraMemory:         g.remoteEra(u.Name),
	}
	switch u.Type {
	case config.TypeHTTP:
		e := remote.Endpoint{Conn: opts, URL: u.URL, Header: header, Client: g.remoteClient()}
		if u.FallbackSSE {
			return httpup.NewWithFallback(e, h, log)
		}
		return httpup.New(e, h, log)
	case config.TypeSSE:
		return sseup.New(remote.Endpoint{Conn: opts, URL: u.URL, Header: header, Client: g.remoteClient()}, h, log)
	}
	return nil, fmt.Errorf("upstream type %q is not remote", u.Type)
}

// remoteEra is the era memory the connections of remote upstream name
// share (its users' connections when per_user): one probe decides for all.
func (g *Gateway) remoteEra(name string) *upstream.EraMemory {
	m, _ := g.remoteEras.LoadOrStore(name, &upstream.EraMemory{})
	return m.(*upstream.EraMemory)
}
