package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// bufPool recycles the buffers messages are encoded into: Send does not
// keep a body after it returns.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// maxPooled keeps outsized buffers out of the pool.
const maxPooled = 64 << 10

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

// GetBuffer returns an empty buffer from the pool the Conn encodes its
// messages into, for a wire package's transient reads (a JSON answer that
// is decoded and dropped); PutBuffer returns it.
func GetBuffer() *[]byte { return getBuf() }

// PutBuffer returns a buffer from GetBuffer to the pool (unless it grew
// outsized); nothing may use it afterwards.
func PutBuffer(b *[]byte) { putBuf(b) }

func putBuf(b *[]byte) {
	if cap(*b) <= maxPooled {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}

// appendMessage encodes a request (id > 0) or notification into b. Raw
// params pass through unchanged (compacted only if they span lines).
func appendMessage(b []byte, id int64, method string, params json.RawMessage) []byte {
	m := jsonrpc.Message{JSONRPC: jsonrpc.Version, Method: method, Params: params}
	if id > 0 {
		var idBuf [20]byte
		m.ID = strconv.AppendInt(idBuf[:0], id, 10)
	}
	return jsonrpc.AppendEncode(b, &m)
}

// Call sends a request with a fresh id and waits for its response, which
// it returns with the id it was sent with. params must be valid JSON or
// empty. If ctx ends first, Call tells the server with
// notifications/cancelled [C §Cancellation Flow] (and, on Streamable HTTP,
// closes the request's stream) and returns ctx.Err(). If the session
// expires, Call waits for a new one and sends the request once more: the
// server never saw it. Any other failure returns an error wrapping
// upstream.ErrUnavailable at once.
func (c *Conn) Call(ctx context.Context, method string, params json.RawMessage) (*jsonrpc.Message, error) {
	select {
	case c.slots <- struct{}{}:
		defer func() { <-c.slots }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	a, err := c.live(ctx, nil, c.opts.ReadyWait)
	if err != nil {
		return nil, err
	}
	m, err := c.call(ctx, a, method, a.params(params))
	if errors.Is(err, ErrSessionExpired) {
		// [T §Session Management 4] a new session, then the call again.
		if a, err = c.live(ctx, a, max(c.opts.ReadyWait, c.opts.InitTimeout)); err != nil {
			return nil, err
		}
		m, err = c.call(ctx, a, method, a.params(params))
	}
	return m, err
}

// call sends one request on session a and waits for its response.
func (c *Conn) call(ctx context.Context, a *attempt, method string, params json.RawMessage) (*jsonrpc.Message, error) {
	id := c.nextID.Add(1)
	ch, ok := a.register(id)
	if !ok {
		if errors.Is(a.session().Err(), ErrSessionExpired) {
			// Never sent, and the server forgot the session: Call sends
			// it on the next one [T §Session Management 4].
			return nil, fmt.Errorf("calling upstream %q: %w", c.opts.Name, ErrSessionExpired)
		}
		return nil, c.unavailable("the session ended")
	}
	received := false
	defer func() { a.unregister(id, ch, received) }()
	buf := getBuf()
	*buf = appendMessage(*buf, id, method, params)
	err := a.session().Send(ctx, Outgoing{Body: *buf, Kind: jsonrpc.KindRequest, ID: id, Method: method})
	putBuf(buf)
	if err != nil {
		if ctx.Err() != nil {
			c.cancelUpstream(ctx, a, id)
			return nil, ctx.Err()
		}
		if errors.Is(err, ErrSessionExpired) || errors.Is(err, upstream.ErrUnavailable) {
			return nil, err
		}
		return nil, fmt.Errorf("calling upstream %q: %w: %w", c.opts.Name, upstream.ErrUnavailable, err)
	}
	select {
	case m := <-ch:
		received = true
		if m == nil {
			return nil, c.unavailable("the session ended with the call in flight")
		}
		return m, nil
	case <-ctx.Done():
		c.cancelUpstream(ctx, a, id)
		return nil, ctx.Err()
	}
}

func (c *Conn) unavailable(why string) error {
	return fmt.Errorf("upstream %q: %s: %w", c.opts.Name, why, upstream.ErrUnavailable)
}

// cancelUpstream tells the server to stop working on request id
// [C §Cancellation Flow], in the background: the caller's ctx is over. A
// response that arrives later is dropped [C §Behavior Requirements 5].
// Initialize never comes through here [C §Behavior Requirements 2].
func (c *Conn) cancelUpstream(ctx context.Context, a *attempt, id int64) {
	if a.meta != nil {
		// 2026-07-28 over HTTP: closing the response stream (the POST's
		// context, ended with ctx) is the cancellation; no
		// notifications/cancelled is sent [SH26 §Cancellation].
		return
	}
	reason := "request cancelled"
	// The relay ends timed-out calls with a cause that wraps
	// DeadlineExceeded (relay/deadline.go); a plain deadline shows in Cause
	// too.
	if errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		reason = "request timed out"
	}
	params := fmt.Appendf(nil, `{"requestId":%d,"reason":%q}`, id, reason)
	body := appendMessage(nil, 0, mcp.NotificationCancelled, params)
	a.background(func(ctx context.Context) {
		err := a.session().Send(ctx, Outgoing{Body: body, Kind: jsonrpc.KindNotification, Method: mcp.NotificationCancelled})
		if err != nil {
			c.log.Debug("upstream cancellation not sent", "id", id, "err", err)
		}
	})
}

// Notify sends a notification. It returns once the server has taken it.
func (c *Conn) Notify(ctx context.Context, method string, params json.RawMessage) error {
	a, err := c.live(ctx, nil, c.opts.ReadyWait)
	if err != nil {
		return err
	}
	if a.meta != nil {
		// 2026-07-28 defines no client notifications over Streamable HTTP
		// [SH26 §Sending Messages, Note]: nothing to send.
		return nil
	}
	buf := getBuf()
	defer putBuf(buf)
	*buf = appendMessage(*buf, 0, method, params)
	if err := a.session().Send(ctx, Outgoing{Body: *buf, Kind: jsonrpc.KindNotification, Method: method}); err != nil {
		return fmt.Errorf("notifying upstream %q: %w", c.opts.Name, err)
	}
	return nil
}

// Respond answers a request the server sent; msg carries the server's own
// id. If the session that asked has ended, or the id is not one it asked
// with (or was answered already), Respond returns an error wrapping
// upstream.ErrUnavailable and sends nothing: a new session must not receive
// answers meant for its predecessor.
func (c *Conn) Respond(ctx context.Context, msg *jsonrpc.Message) error {
	if msg == nil || msg.Kind() != jsonrpc.KindResponse {
		return fmt.Errorf("responding to upstream %q: not a response", c.opts.Name)
	}
	c.sup.Lock()
	a := c.cur
	c.sup.Unlock()
	if a == nil || !a.takeInbound(msg.ID) {
		return fmt.Errorf("responding to upstream %q: %w: no pending request with that id", c.opts.Name, upstream.ErrUnavailable)
	}
	buf := getBuf()
	defer putBuf(buf)
	*buf = jsonrpc.AppendEncode(*buf, msg)
	if err := a.session().Send(ctx, Outgoing{Body: *buf, Kind: jsonrpc.KindResponse}); err != nil {
		return fmt.Errorf("responding to upstream %q: %w", c.opts.Name, err)
	}
	return nil
}

// live returns the ready session other than not, waiting up to wait for
// one while the upstream is (re)connecting.
func (c *Conn) live(ctx context.Context, not *attempt, wait time.Duration) (*attempt, error) {
	if a := c.ready.Load(); a != nil && a != not {
		return a, nil
	}
	var a *attempt
	err := c.sup.WaitReady(ctx, wait, func() bool {
		a = c.ready.Load()
		return a != nil && a != not
	})
	return a, err
}
