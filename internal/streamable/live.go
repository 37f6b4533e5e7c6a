package streamable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/relay"
	"github.com/mcpgate/mcpgate/internal/session"
)

// standaloneStream is the stream ID of every session's standalone stream,
// the one a GET without Last-Event-ID reads ([T §Listening for Messages]).
// Random stream IDs (eventlog.NewStreamID) are 16 characters, so they never
// collide with it.
const standaloneStream = "0"

// liveSession is a session as this replica serves it: its relay client, the
// context that ends with it, and the connections writing its streams.
type liveSession struct {
	id      string
	version string
	client  *relay.Client
	ctx     context.Context // done when the session ends here (DELETE, expiry, Shutdown)
	cancel  context.CancelFunc

	calls atomic.Int32 // POSTs with requests in flight (MaxConcurrentCalls)

	mu    sync.Mutex       // guards conns
	conns map[string]*conn // stream ID → the one connection writing it
}

// conn is one HTTP response writing a stream.
type conn struct {
	cancel context.CancelFunc // stops the connection's tail
	done   chan struct{}      // closed when the tail has returned
}

// ownedBy reports whether p may use a session owned by owner: the same
// user, by principal key ([SBP §Session Hijacking]: bind sessions to the
// user and refuse a session ID presented by another).
func ownedBy(owner, p principal.Principal) bool { return owner.Key() == p.Key() }

// attach makes c the connection writing stream. If another connection
// holds it, attach fails with errConflict unless takeover is set, in which
// case it stops the other one and waits (bounded by ctx) until it has
// written its last byte, so that no event goes out on two connections
// ([T §Multiple Connections] 2).
func (ls *liveSession) attach(ctx context.Context, stream string, c *conn, takeover bool) error {
	ls.mu.Lock()
	old := ls.conns[stream]
	if old != nil && !takeover {
		ls.mu.Unlock()
		return errConflict
	}
	ls.conns[stream] = c
	ls.mu.Unlock()
	if old == nil {
		return nil
	}
	old.cancel()
	select {
	case <-old.done:
		return nil
	case <-ctx.Done():
		ls.detach(stream, c)
		return ctx.Err()
	}
}

// detach removes c from stream if it still holds it.
func (ls *liveSession) detach(stream string, c *conn) {
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

var errResponseOnStream = errors.New("a JSON-RPC response cannot be sent on a stream")

// Send appends msg. Responses are refused: the server MUST NOT send one on
// the standalone stream ([T §Listening for Messages] 4).
func (s *logStream) Send(msg *jsonrpc.Message) error {
	if msg.Kind() == jsonrpc.KindResponse {
		return errResponseOnStream
	}
	if _, err := s.events.Append(s.ctx, s.session, s.stream, jsonrpc.Encode(msg)); err != nil {
		return fmt.Errorf("sending %s on stream %s: %w", msg.Kind(), s.stream, err)
	}
	return nil
}

// newLive builds the live state of a session record. caps are the parsed
// capabilities when the caller has them (at initialize), else they are
// read from the record.
func (h *Handler) newLive(s *session.Session, caps *relay.ClientCapabilities) *liveSession {
	ctx, cancel := context.WithCancel(h.base)
	ls := &liveSession{
		id:      s.ID,
		version: s.ProtocolVersion,
		ctx:     ctx,
		cancel:  cancel,
		conns:   make(map[string]*conn),
	}
	if caps == nil {
		c := capabilitiesFromRaw(s.Capabilities)
		caps = &c
	}
	ls.client = &relay.Client{
		SessionID:       s.ID,
		Principal:       s.Principal,
		ProtocolVersion: s.ProtocolVersion,
		Capabilities:    *caps,
		ClientInfo:      s.ClientInfo,
		Standalone:      &logStream{events: h.events, ctx: ctx, session: s.ID, stream: standaloneStream},
	}
	return ls
}

// capabilitiesFromRaw rebuilds the routed capability flags from the raw
// capabilities object kept in the session record, for a session this
// replica did not initialize.
func capabilitiesFromRaw(raw json.RawMessage) relay.ClientCapabilities {
	var c struct {
		Sampling    json.RawMessage `json:"sampling"`
		Elicitation json.RawMessage `json:"elicitation"`
		Roots       json.RawMessage `json:"roots"`
	}
	_ = json.Unmarshal(raw, &c) // stored by us at initialize; a bad one routes nothing
	present := func(r json.RawMessage) bool { return len(r) > 0 && string(r) != "null" }
	return relay.ClientCapabilities{
		Sampling:    present(c.Sampling),
		Elicitation: present(c.Elicitation),
		Roots:       present(c.Roots),
		Raw:         raw,
	}
}

// register adds ls to the live sessions and attaches its client to the
// core. It returns the live session already registered under the ID, if
// another request got there first.
func (h *Handler) register(ls *liveSession) *liveSession {
	h.mu.Lock()
	if cur := h.live[ls.id]; cur != nil {
		h.mu.Unlock()
		ls.cancel()
		return cur
	}
	h.live[ls.id] = ls
	h.mu.Unlock()
	h.core.Attach(ls.client)
	return ls
}

// lookupLive returns the live state of a session, building and attaching it
// if this replica has not served the session yet (it was created on another
// replica, with a shared store).
func (h *Handler) lookupLive(ctx context.Context, s *session.Session) *liveSession {
	h.mu.RLock()
	ls := h.live[s.ID]
	h.mu.RUnlock()
	if ls != nil {
		return ls
	}
	if h.isClosing() {
		// After Shutdown, notifications and responses still reach the core
		// but nothing is attached any more.
		return h.newLive(s, nil)
	}
	ls = h.register(h.newLive(s, nil))
	// The session may have ended between the store lookup and register; if
	// so, undo the attach rather than keep a dead client.
	if _, err := h.sessions.Get(ctx, s.ID); errors.Is(err, session.ErrNotFound) {
		h.endSession(ctx, s.ID, "ended during attach")
	}
	return ls
}

// endSession ends a session on this replica: its calls and tails are
// cancelled, the core forgets it, and its streams leave the event log. The
// record is already gone from the store (DELETE or expiry).
func (h *Handler) endSession(ctx context.Context, id, reason string) {
	h.mu.Lock()
	ls := h.live[id]
	delete(h.live, id)
	h.mu.Unlock()
	if ls != nil {
		ls.cancel()
		h.core.Detach(id)
	}
	if err := h.events.DeleteSession(context.WithoutCancel(ctx), id); err != nil {
		h.log.Warn("deleting session streams", "session", session.Short(id), "err", err)
	}
	h.log.Debug("session ended", "session", session.Short(id), "reason", reason)
}
