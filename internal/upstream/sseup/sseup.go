// Package sseup connects the gateway to a remote MCP server over the
// HTTP+SSE transport of protocol revision 2024-11-05 [T05 §HTTP with SSE]:
// a GET opens the server's SSE stream, whose first event, `endpoint`, names
// the URL the client POSTs its messages to; every server message, the
// responses included, arrives as a `message` event on that stream. There is
// no resumption: when the stream ends, the session is over, and package
// remote's supervisor opens a new one and initializes it again.
//
// Citations: [T05] docs/specification/2024-11-05/basic/transports.mdx.
package sseup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/upstream"
	"github.com/mcpgate/mcpgate/internal/upstream/remote"
)

// Transport is the value of upstream.Status.Transport for these upstreams.
const Transport = "sse"

// New returns a supervised HTTP+SSE upstream whose URL is the server's SSE
// endpoint (GET); nothing runs until Start. h and log are as for
// remote.New.
func New(e remote.Endpoint, h upstream.Handler, log *slog.Logger) (*remote.Conn, error) {
	p, err := e.Prepare(Transport, log)
	if err != nil {
		return nil, err
	}
	return remote.New(e.Conn, (&client{p}).dial, h, log)
}

// client is what every session of one upstream shares.
type client struct{ p *remote.Prepared }

var (
	acceptStream = []string{"text/event-stream"}
	acceptJSON   = []string{"application/json"}
	contentJSON  = []string{"application/json"}
)

// session is one HTTP+SSE session: the open GET stream and the endpoint
// it named.
type session struct {
	cl       *client
	endpoint string
	ctx      context.Context
	stop     context.CancelFunc
	done     chan struct{}
	reader   sync.WaitGroup // the stream's reader

	mu  sync.Mutex // guards err
	err error
}

// dial opens the SSE stream and waits, bounded by ctx, for its endpoint
// event [T05 §HTTP with SSE]: "When a client connects, the server MUST
// send an endpoint event containing a URI for the client to use for
// sending messages."
func (cl *client) dial(ctx context.Context, sink remote.Sink) (remote.Session, error) {
	sctx, stop := context.WithCancel(context.Background())
	s := &session{cl: cl, ctx: sctx, stop: stop, done: make(chan struct{})}
	unhook := context.AfterFunc(ctx, stop) // the dial's bound, until the endpoint arrives
	req, err := http.NewRequestWithContext(sctx, http.MethodGet, cl.p.URL.String(), nil)
	if err != nil {
		unhook()
		stop()
		return nil, fmt.Errorf("connecting: %w", err)
	}
	req.Header = cl.headers(acceptStream, nil)
	resp, err := cl.p.Client.Do(req)
	if err != nil {
		unhook()
		stop()
		return nil, fmt.Errorf("connecting: %w", orCtx(ctx, remote.NetError(err)))
	}
	if resp.StatusCode != http.StatusOK || !remote.IsEventStream(resp.Header.Get("Content-Type")) {
		unhook()
		stop()
		remote.Drain(resp.Body)
		return nil, fmt.Errorf("connecting: %w", remote.StatusError(resp))
	}
	r := remote.NewEventReader(resp.Body, int(cl.p.Max))
	for s.endpoint == "" {
		ev, err := r.Next()
		if err != nil {
			unhook()
			stop()
			resp.Body.Close()
			return nil, fmt.Errorf("connecting: waiting for the endpoint event: %w", orCtx(ctx, err))
		}
		if ev.Name != "endpoint" {
			continue
		}
		ep, err := cl.endpointURL(string(ev.Data))
		if err != nil {
			unhook()
			stop()
			resp.Body.Close()
			return nil, fmt.Errorf("connecting: %w", err)
		}
		s.endpoint = ep
	}
	if !unhook() { // the dial's ctx ended at the last moment
		stop()
		resp.Body.Close()
		return nil, fmt.Errorf("connecting: %w", ctx.Err())
	}
	s.reader.Go(func() { s.read(r, resp, sink) })
	return s, nil
}

// orCtx prefers ctx's error, which says why a read was cut.
func orCtx(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// endpointURL resolves the endpoint event's URI against the SSE URL and
// refuses another origin: the server's word alone must not send the
// upstream's headers and credential to another host.
func (cl *client) endpointURL(raw string) (string, error) {
	ref, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("the endpoint event is not a URI")
	}
	u := cl.p.URL.ResolveReference(ref)
	if u.Scheme != cl.p.URL.Scheme || u.Host != cl.p.URL.Host {
		return "", errors.New("the endpoint event names another origin; refused")
	}
	return u.String(), nil
}

// headers builds a request's headers.
func (cl *client) headers(accept, contentType []string) http.Header {
	h := cl.p.NewHeader(2)
	h["Accept"] = accept
	if contentType != nil {
		h["Content-Type"] = contentType
	}
	return h
}

// read delivers the stream's message events until it ends, which ends the
// session.
func (s *session) read(r *remote.EventReader, resp *http.Response, sink remote.Sink) {
	defer resp.Body.Close()
	defer r.Release()
	for {
		ev, err := r.Next()
		if err != nil {
			if s.ctx.Err() == nil {
				s.end(fmt.Errorf("the SSE stream ended: %w", err))
			}
			return
		}
		if len(ev.Data) == 0 || (ev.Name != "" && ev.Name != "message") {
			continue
		}
		msg, rpcErr := jsonrpc.Decode(ev.Data)
		if rpcErr != nil {
			s.cl.p.Log.Warn("upstream sent a malformed message; skipped", "err", rpcErr.Message, "len", len(ev.Data))
			continue
		}
		sink.Deliver(msg, 0)
	}
}

func (s *session) end(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
		close(s.done)
	}
}

// Done implements remote.Session.
func (s *session) Done() <-chan struct{} { return s.done }

// Err implements remote.Session.
func (s *session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Negotiated implements remote.Session; the transport has no version
// header.
func (s *session) Negotiated(string) {}

// Ready implements remote.Session; the stream is already open.
func (s *session) Ready() {}

// Send implements remote.Session: POST to the endpoint; the answer comes
// on the stream [T05 §HTTP with SSE].
func (s *session) Send(ctx context.Context, m remote.Outgoing) error {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.ctx, cancel)()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, s.endpoint, bytes.NewReader(m.Body))
	if err != nil {
		return fmt.Errorf("posting: %w", err)
	}
	// The answer to a POST is a bare status; the messages come on the
	// stream.
	req.Header = s.cl.headers(acceptJSON, contentJSON)
	resp, err := s.cl.p.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("posting: %w: %w", upstream.ErrUnavailable, remote.NetError(err))
	}
	remote.Drain(resp.Body)
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode == http.StatusNotFound:
		// The server no longer knows the session of this endpoint.
		s.end(remote.ErrSessionExpired)
		return fmt.Errorf("posting: %w", remote.ErrSessionExpired)
	}
	return fmt.Errorf("posting: %w: %w", upstream.ErrUnavailable, remote.StatusError(resp))
}

// Close implements remote.Session: the stream is closed (the transport has
// no other goodbye) and its reader waited for, bounded by ctx.
func (s *session) Close(ctx context.Context) {
	s.stop()
	s.end(errors.New("session closed"))
	waited := make(chan struct{})
	go func() { s.reader.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
	}
}

// NewDialer returns the dialer of HTTP+SSE sessions to p's URL, for a
// transport that falls back to this one (httpup.NewWithFallback).
func NewDialer(p *remote.Prepared) remote.Dialer { return (&client{p}).dial }
