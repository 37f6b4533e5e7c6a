package remote

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/mcpgate/mcpgate/internal/upstream"
)

// Endpoint configures one remote upstream: the transport-independent Conn
// options and where and how to reach the server. Both wire packages take
// it (httpup.New, sseup.New).
type Endpoint struct {
	// Conn are the transport-independent options (name, initialize,
	// timeouts, backoff). Conn.Transport is set by the wire package.
	Conn Options
	// URL is the server's address, http:// or https://; required: the MCP
	// endpoint of a Streamable HTTP server, the SSE endpoint of an
	// HTTP+SSE one.
	URL string
	// Header is sent with every request: static headers and the user's
	// credential. It may hold secrets, so it is never logged. Nil sends
	// none. The transport's own headers (Accept, Content-Type,
	// Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID) win over it.
	Header http.Header
	// Client sends the requests. It should not follow redirects (see
	// NewClient). Nil means a client of its own over NewRoundTripper(); a
	// gateway shares one between its upstreams.
	Client *http.Client
	// MaxMessageSize bounds a JSON response and one SSE event, in bytes; a
	// larger one fails the call (or, on a legacy stream, the session).
	// Zero means upstream.DefaultMaxMessageSize.
	MaxMessageSize int64
}

// reserved are the headers the transports set themselves.
var reserved = []string{"Accept", "Content-Type", "Content-Length", "Host", "Mcp-Session-Id", "Mcp-Protocol-Version", "Last-Event-Id"}

// Prepared is an Endpoint checked and with its defaults filled in.
type Prepared struct {
	URL    *url.URL
	Header http.Header // canonical keys, without the reserved ones; never logged
	Client *http.Client
	// direct is Direct(Client): the transport Do sends through, or nil.
	direct http.RoundTripper
	Max    int64
	Log    *slog.Logger // with the upstream's name
}

// Prepare checks e and fills in its defaults, for a wire package whose
// Status says transport. A nil log discards logs.
func (e *Endpoint) Prepare(transport string, log *slog.Logger) (*Prepared, error) {
	u, err := CheckURL(e.URL)
	if err != nil {
		return nil, fmt.Errorf("configuring upstream %q: url: %w", e.Conn.Name, err)
	}
	e.Conn.Transport = transport
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Prepared{URL: u, Client: e.Client, Max: e.MaxMessageSize, Log: log.With("upstream", e.Conn.Name)}
	if p.Client == nil {
		p.Client = NewClient(NewRoundTripper())
	}
	p.direct = Direct(p.Client)
	if p.Max <= 0 {
		p.Max = upstream.DefaultMaxMessageSize
	}
	p.Header = make(http.Header, len(e.Header))
	for k, v := range e.Header {
		p.Header[http.CanonicalHeaderKey(k)] = v
	}
	for _, k := range reserved {
		delete(p.Header, k)
	}
	return p, nil
}

// Do sends req as p.Client.Do would, straight through the Transport when
// that is the same (Direct). An error is never a *url.Error carrying the
// URL; pass it through NetError all the same.
func (p *Prepared) Do(req *http.Request) (*http.Response, error) {
	if p.direct != nil {
		return p.direct.RoundTrip(req)
	}
	return p.Client.Do(req)
}

// NewHeader returns a request's headers: the endpoint's, plus the
// transport's own (set after, so they win).
func (p *Prepared) NewHeader(extra int) http.Header {
	h := make(http.Header, len(p.Header)+extra)
	for k, v := range p.Header {
		h[k] = v
	}
	return h
}
