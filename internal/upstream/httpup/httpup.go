// Package httpup connects the gateway to a remote MCP server over
// Streamable HTTP [T §Streamable HTTP]: every message a POST to the MCP
// endpoint, answered as JSON or as an SSE stream; the session id and
// protocol version headers; the standalone GET stream for the server's own
// messages; resumption with Last-Event-ID honouring retry; a new session on
// 404; DELETE on stop. Supervision (initialize, restart with backoff,
// pending calls, cancellation) is package remote's.
//
// Citations: [T] docs/specification/2025-11-25/basic/transports.mdx.
package httpup

import (
	"context"
	"errors"
	"log/slog"

	"github.com/mcpgate/mcpgate/internal/upstream"
	"github.com/mcpgate/mcpgate/internal/upstream/remote"
)

// Transport is the value of upstream.Status.Transport for these upstreams.
const Transport = "http"

// New returns a supervised Streamable HTTP upstream whose URL is the
// server's MCP endpoint; nothing runs until Start. h and log are as for
// remote.New.
func New(e remote.Endpoint, h upstream.Handler, log *slog.Logger) (*remote.Conn, error) {
	p, err := e.Prepare(Transport, log)
	if err != nil {
		return nil, err
	}
	cl := &client{url: p.URL.String(), p: p}
	return remote.New(e.Conn, cl.dial, h, log)
}

// client is what every session of one upstream shares.
type client struct {
	url string
	p   *remote.Prepared
}

// dial opens a session: nothing goes on the wire until initialize is sent
// through it, which is when the server assigns the session id.
func (cl *client) dial(ctx context.Context, sink remote.Sink) (remote.Session, error) {
	return newSession(cl, sink), nil
}

// validSessionID: visible ASCII only [T §Session Management 1].
func validSessionID(id string) bool {
	if id == "" || len(id) > 1024 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

var errNoResponse = errors.New("the stream ended without a response")
