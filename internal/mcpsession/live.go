package mcpsession

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/httpkit"
	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/relay"
	"github.com/mcpgate/mcpgate/internal/session"
)

// Live is a session as this replica serves it. Its methods are safe for
// concurrent use.
type Live struct {
	id        string
	transport string
	principal principal.Principal
	created   time.Time

	ctx    context.Context // done when the session ends here (DELETE, disconnection, expiry, Shutdown)
	cancel context.CancelFunc

	// client is the relay's view of the session, attached to the core; nil
	// while a session opened by Open awaits its initialize.
	client atomic.Pointer[relay.Client]

	calls atomic.Int32 // calls in flight (Options.MaxConcurrentCalls)

	events atomic.Int64 // server→client messages delivered
	bytes  atomic.Int64 // response bytes written

	mu    sync.Mutex       // guards conns
	conns map[string]*Conn // stream ID → the one connection writing it
}

// ID returns the session ID.
func (ls *Live) ID() string { return ls.id }

// Transport returns the name of the transport that created the session.
func (ls *Live) Transport() string { return ls.transport }

// Principal returns the session's owner.
func (ls *Live) Principal() principal.Principal { return ls.principal }

// Context returns a context that is done when the session ends on this
// replica. Calls and streams of the session end with it.
func (ls *Live) Context() context.Context { return ls.ctx }

// Client returns the session's relay client, or nil while a session opened
// by Open awaits its initialize.
func (ls *Live) Client() *relay.Client { return ls.client.Load() }

// Version returns the negotiated protocol version, or "" before initialize.
func (ls *Live) Version() string {
	if c := ls.client.Load(); c != nil {
		return c.ProtocolVersion
	}
	return ""
}

// EndCall counts out a call that Hub.StartCall counted in.
func (ls *Live) EndCall() { ls.calls.Add(-1) }

// CountSent records messages delivered to the client and the response
// bytes that carried them, for Stats.
func (ls *Live) CountSent(events int, bytes int64) {
	if events != 0 {
		ls.events.Add(int64(events))
	}
	if bytes != 0 {
		ls.bytes.Add(bytes)
	}
}

// Conn is one HTTP response writing a stream.
type Conn struct {
	mu     sync.Mutex             // guards cancel
	cancel func()                 // stops the connection's writer (a parked stream's, once parked)
	done   chan struct{}          // closed when the writer has returned
	parked atomic.Pointer[parked] // the parked stream writing it, if parked
}

// NewConn returns a Conn whose writer cancel stops. Call Close once the
// writer has written its last byte.
func NewConn(cancel context.CancelFunc) *Conn {
	return &Conn{cancel: cancel, done: make(chan struct{})}
}

// stop stops the connection's writer.
func (c *Conn) stop() {
	c.mu.Lock()
	f := c.cancel
	c.mu.Unlock()
	f()
}

// rebind makes f what stops the connection's writer: the parked stream
// that took the connection over from the handler.
func (c *Conn) rebind(f func()) {
	c.mu.Lock()
	c.cancel = f
	c.mu.Unlock()
}

// Close reports that the connection's writer has returned.
func (c *Conn) Close() { close(c.done) }

// ErrConflict: another connection holds the stream.
var ErrConflict = httpkit.NewError(http.StatusConflict, "conflict",
	"Conflict: a stream is already open for this session")

// Attach makes c the connection writing stream. If another connection
// holds it, Attach fails with ErrConflict unless takeover is set, in which
// case it stops the other one and waits (bounded by ctx) until it has
// written its last byte, so that no event goes out on two connections
// ([T §Multiple Connections] 2).
func (ls *Live) Attach(ctx context.Context, stream string, c *Conn, takeover bool) error {
	ls.mu.Lock()
	old := ls.conns[stream]
	if old != nil && !takeover {
		ls.mu.Unlock()
		return ErrConflict
	}
	ls.conns[stream] = c
	ls.mu.Unlock()
	if old == nil {
		return nil
	}
	old.stop()
	select {
	case <-old.done:
		return nil
	case <-ctx.Done():
		ls.Detach(stream, c)
		return ctx.Err()
	}
}

// parkedStream returns the parked stream writing stream, or nil.
func (ls *Live) parkedStream(stream string) *parked {
	ls.mu.Lock()
	c := ls.conns[stream]
	ls.mu.Unlock()
	if c == nil {
		return nil
	}
	return c.parked.Load()
}

// Detach removes c from stream if it still holds it.
func (ls *Live) Detach(stream string, c *Conn) {
	ls.mu.Lock()
	if ls.conns[stream] == c {
		delete(ls.conns, stream)
	}
	ls.mu.Unlock()
}

// logStream is the relay.Stream of a session's standalone stream: it
// appends to the event log, whoever tails it.
type logStream struct {
	events  eventlog.Log
	ctx     context.Context
	session string
	stream  string
}

// ErrResponseOnStream: a relay.Stream refused a JSON-RPC response.
var ErrResponseOnStream = errors.New("a JSON-RPC response cannot be sent on a stream")

// Send appends msg. Responses are refused: the server MUST NOT send one on
// the standalone stream ([T §Listening for Messages] 4); the legacy
// transport appends its responses itself.
func (s *logStream) Send(msg *jsonrpc.Message) error {
	if msg.Kind() == jsonrpc.KindResponse {
		return ErrResponseOnStream
	}
	if _, err := s.events.Append(s.ctx, s.session, s.stream, jsonrpc.Encode(msg)); err != nil {
		return fmt.Errorf("sending %s on stream %s: %w", msg.Kind(), s.stream, err)
	}
	return nil
}

// newLive builds the live state of a session record. caps are the parsed
// capabilities when the caller has them (at initialize), else they are
// read from the record. A record without a protocol version (opened, not
// yet initialized) gets no client.
func (h *Hub) newLive(s *session.Session, caps *relay.ClientCapabilities) *Live {
	ctx, cancel := context.WithCancel(h.base)
	ls := &Live{
		id:        s.ID,
		transport: s.Transport,
		principal: s.Principal,
		created:   s.CreatedAt,
		ctx:       ctx,
		cancel:    cancel,
		conns:     make(map[string]*Conn),
	}
	if s.ProtocolVersion != "" {
		ls.client.Store(h.newClient(ls, s, caps))
	}
	return ls
}

// newClient builds the relay client of an initialized session.
func (h *Hub) newClient(ls *Live, s *session.Session, caps *relay.ClientCapabilities) *relay.Client {
	if caps == nil {
		c := CapabilitiesFromRaw(s.Capabilities, s.ProtocolVersion)
		caps = &c
	}
	return &relay.Client{
		SessionID:       s.ID,
		Principal:       s.Principal,
		ProtocolVersion: s.ProtocolVersion,
		Capabilities:    *caps,
		ClientInfo:      s.ClientInfo,
		Standalone:      &logStream{events: h.events, ctx: ls.ctx, session: s.ID, stream: StandaloneStream},
	}
}

// CapabilitiesFromRaw rebuilds the routed capability flags from the raw
// capabilities object kept in the session record, for a session this
// replica did not initialize, as the relay's Initialize parses them for
// version: a capability the revision does not have is not routed on.
func CapabilitiesFromRaw(raw json.RawMessage, version string) relay.ClientCapabilities {
	var c struct {
		Sampling    json.RawMessage `json:"sampling"`
		Elicitation json.RawMessage `json:"elicitation"`
		Roots       json.RawMessage `json:"roots"`
	}
	_ = json.Unmarshal(raw, &c) // stored by us at initialize; a bad one routes nothing
	present := func(r json.RawMessage) bool { return len(r) > 0 && string(r) != "null" }
	return relay.ClientCapabilities{
		Sampling:    present(c.Sampling),
		Elicitation: present(c.Elicitation) && mcp.HasElicitation(version),
		Roots:       present(c.Roots),
		Raw:         raw,
	}
}
