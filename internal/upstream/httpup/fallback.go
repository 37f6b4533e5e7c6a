package httpup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
	"github.com/mcpgate/mcpgate/internal/upstream/remote"
	"github.com/mcpgate/mcpgate/internal/upstream/sseup"
)

// The backwards-compatible fallback for a URL whose transport is unknown
// [T §Backwards Compatibility] (2025-11-25; the same in 2026-07-28's
// §HTTP+SSE Transport): POST the InitializeRequest to the URL; on 400, 404
// or 405 without a JSON-RPC response, GET the same URL expecting an SSE
// stream whose first event is `endpoint`, and use the HTTP+SSE transport
// from then on.

// NewWithFallback returns a supervised upstream at e.URL that speaks
// Streamable HTTP (either era) and falls back to the 2024-11-05 HTTP+SSE
// transport when the server refuses the initialize POST as described
// above. Once fallen back, later sessions go straight to HTTP+SSE (a
// gateway restart tries Streamable HTTP again). h and log are as for
// remote.New.
func NewWithFallback(e remote.Endpoint, h upstream.Handler, log *slog.Logger) (*remote.Conn, error) {
	p, err := e.Prepare(Transport, log)
	if err != nil {
		return nil, err
	}
	fb := &fallback{http: &client{url: p.URL.String(), p: p}, sse: sseup.NewDialer(p), log: p.Log}
	return remote.New(e.Conn, fb.dial, h, log)
}

// fallback is what every session of a falling-back upstream shares.
type fallback struct {
	http   *client
	sse    remote.Dialer
	log    *slog.Logger
	useSSE atomic.Bool // the server refused Streamable HTTP once
}

func (fb *fallback) dial(ctx context.Context, sink remote.Sink) (remote.Session, error) {
	if fb.useSSE.Load() {
		return fb.sse(ctx, sink)
	}
	return &fallbackSession{fb: fb, sink: sink, cur: newSession(fb.http, sink)}, nil
}

// fallbackSession is a Streamable HTTP session until its initialize POST
// is refused, then the HTTP+SSE session it switched to.
type fallbackSession struct {
	fb   *fallback
	sink remote.Sink

	mu  sync.Mutex // guards cur and the switch
	cur remote.Session
}

var _ remote.ModernSession = (*fallbackSession)(nil)

func (f *fallbackSession) current() remote.Session {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cur
}

// Send implements remote.Session; an initialize refused as above switches
// the session to HTTP+SSE and is sent again there.
func (f *fallbackSession) Send(ctx context.Context, m remote.Outgoing) error {
	cur := f.current()
	err := cur.Send(ctx, m)
	hs, isHTTP := cur.(*session)
	if err == nil || !isHTTP || m.Method != mcp.MethodInitialize || !refused(err) {
		return err
	}
	f.fb.log.Info("upstream refused Streamable HTTP; falling back to HTTP+SSE", "err", err)
	sse, derr := f.fb.sse(ctx, f.sink)
	if derr != nil {
		return fmt.Errorf("falling back to HTTP+SSE: %w", derr)
	}
	f.mu.Lock()
	f.cur = sse
	f.mu.Unlock()
	f.fb.useSSE.Store(true)
	hs.Close(ctx) // nothing to tell the server: it assigned no session
	return sse.Send(ctx, m)
}

// refused reports whether err is a 400, 404 or 405 answered without a
// JSON-RPC response [T §Backwards Compatibility 2].
func refused(err error) bool {
	var se *remote.HTTPStatusError
	return errors.As(err, &se) && remote.IsFallbackStatus(se.Code)
}

// Modern implements remote.ModernSession while the session is Streamable
// HTTP; HTTP+SSE has no stateless era.
func (f *fallbackSession) Modern(version string) {
	if ms, ok := f.current().(remote.ModernSession); ok {
		ms.Modern(version)
	}
}

func (f *fallbackSession) Negotiated(version string) { f.current().Negotiated(version) }
func (f *fallbackSession) Ready()                    { f.current().Ready() }
func (f *fallbackSession) Done() <-chan struct{}     { return f.current().Done() }
func (f *fallbackSession) Err() error                { return f.current().Err() }
func (f *fallbackSession) Close(ctx context.Context) { f.current().Close(ctx) }
