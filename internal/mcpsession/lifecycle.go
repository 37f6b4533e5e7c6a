package mcpsession

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mcpgate/mcpgate/internal/httpkit"
	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/relay"
	"github.com/mcpgate/mcpgate/internal/session"
)

// Create answers an initialize request that opens a new session (Streamable
// HTTP, [T §Session Management] 1): the core negotiates, the session is
// stored bound to p, its standalone stream is created, and its client is
// attached to the core. When the core refuses the initialize, rpcErr is the
// JSON-RPC error to answer it with and no session exists. err is
// ErrShuttingDown, an *httpkit.Error like ErrSessionLimit (with the store's
// reason as its cause), or an internal failure.
func (h *Hub) Create(ctx context.Context, p principal.Principal, transport string, params json.RawMessage) (ls *Live, res *relay.InitializeResult, rpcErr *jsonrpc.Error, err error) {
	if !h.Enter(false) {
		return nil, nil, nil, ErrShuttingDown
	}
	defer h.Leave()
	res, rpcErr = h.core.Initialize(ctx, p, params)
	if rpcErr != nil {
		return nil, nil, rpcErr, nil
	}
	if h.opts.Reserve != nil {
		if err := h.opts.Reserve(ctx, p); err != nil {
			return nil, nil, nil, &httpkit.Error{Status: ErrUpstreamCapacity.Status, Code: ErrUpstreamCapacity.Code,
				Message: ErrUpstreamCapacity.Message, Err: err}
		}
	}
	s, err := h.create(ctx, session.Session{
		Principal:       p,
		ProtocolVersion: res.ProtocolVersion,
		Capabilities:    res.Capabilities.Raw,
		ClientInfo:      res.ClientInfo,
		Transport:       transport,
	})
	if err != nil {
		return nil, nil, nil, err
	}
	ls = h.register(h.newLive(s, &res.Capabilities))
	h.log.Debug("session created", "session", session.Short(s.ID), "transport", transport,
		"version", s.ProtocolVersion, "principal", p.Name)
	return ls, res, nil, nil
}

// Open creates a session before its initialize, bound to p: the 2024-11-05
// transport opens one for each GET /sse ([T1105 §HTTP with SSE]: the
// endpoint event carries its ID). It has no protocol version and is not
// attached to the core until InitializeOpen. err is ErrShuttingDown,
// ErrSessionLimit, or an internal failure.
func (h *Hub) Open(ctx context.Context, p principal.Principal, transport string) (*Live, error) {
	if !h.Enter(false) {
		return nil, ErrShuttingDown
	}
	defer h.Leave()
	s, err := h.create(ctx, session.Session{Principal: p, Transport: transport})
	if err != nil {
		return nil, err
	}
	ls := h.register(h.newLive(s, nil))
	h.log.Debug("session opened", "session", session.Short(s.ID), "transport", transport, "principal", p.Name)
	return ls, nil
}

// create stores a session record and its standalone stream.
func (h *Hub) create(ctx context.Context, tmpl session.Session) (*session.Session, error) {
	s, err := h.sessions.Create(ctx, tmpl)
	if errors.Is(err, session.ErrLimit) {
		// Full: refuse the new session, never evict a live one.
		return nil, &httpkit.Error{Status: ErrSessionLimit.Status, Code: ErrSessionLimit.Code, Message: ErrSessionLimit.Message, Err: err}
	}
	if err != nil {
		return nil, err
	}
	if err := h.events.Create(ctx, s.ID, StandaloneStream); err != nil {
		_ = h.sessions.Delete(context.WithoutCancel(ctx), s.ID)
		return nil, fmt.Errorf("creating standalone stream: %w", err)
	}
	return s, nil
}

// InitializeOpen answers the initialize request of a session opened by
// Open: the core negotiates (any revision the client asks for that the
// gateway speaks), the record is completed, and the session's client is
// attached to the core. rpcErr is the JSON-RPC error to answer with: the
// core's, or an Invalid Request when the session is already initialized.
// err is ErrNotFound when the session has ended, or an internal failure.
func (h *Hub) InitializeOpen(ctx context.Context, ls *Live, params json.RawMessage) (res *relay.InitializeResult, rpcErr *jsonrpc.Error, err error) {
	if ls.Client() != nil {
		return nil, errAlreadyInitialized, nil
	}
	res, rpcErr = h.core.Initialize(ctx, ls.principal, params)
	if rpcErr != nil {
		return nil, rpcErr, nil
	}
	if h.opts.Reserve != nil {
		if err := h.opts.Reserve(ctx, ls.principal); err != nil {
			h.log.Info("session refused: upstream capacity", "session", session.Short(ls.id), "err", err)
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeUpstreamUnavailable, Message: ErrUpstreamCapacity.Message}, nil
		}
	}
	err = h.sessions.Initialize(ctx, ls.id, res.ProtocolVersion, res.Capabilities.Raw, res.ClientInfo)
	switch {
	case errors.Is(err, session.ErrInitialized):
		return nil, errAlreadyInitialized, nil
	case errors.Is(err, session.ErrNotFound):
		return nil, nil, ErrNotFound
	case err != nil:
		return nil, nil, err
	}
	s := &session.Session{
		ID:              ls.id,
		Principal:       ls.principal,
		ProtocolVersion: res.ProtocolVersion,
		Capabilities:    res.Capabilities.Raw,
		ClientInfo:      res.ClientInfo,
		Transport:       ls.transport,
	}
	h.adopt(ls, h.newClient(ls, s, &res.Capabilities))
	h.log.Debug("session initialized", "session", session.Short(ls.id), "transport", ls.transport,
		"version", res.ProtocolVersion, "principal", ls.principal.Name)
	return res, nil, nil
}

var errAlreadyInitialized = jsonrpc.NewError(jsonrpc.CodeInvalidRequest, "Invalid Request: the session is already initialized")

// adopt gives a live session its client and attaches it to the core, once.
func (h *Hub) adopt(ls *Live, c *relay.Client) {
	if !ls.client.CompareAndSwap(nil, c) {
		return
	}
	h.core.Attach(c)
	if ls.ctx.Err() != nil {
		// The session ended meanwhile (End cancels before it detaches):
		// leave no client attached.
		h.core.Detach(ls.id)
	}
}

// Resolve finds the session id that p may use on transport and marks it
// active. It returns ErrNotFound for an unknown, ended or expired session
// and for one of another transport ([T §Session Management] 3: after
// termination a session ID MUST get 404), and ErrForbidden for a session
// of another principal ([SBP §Session Hijacking]: sessions are bound to
// their user, and an ID presented by another is refused).
func (h *Hub) Resolve(ctx context.Context, id string, p principal.Principal, transport string) (*session.Session, error) {
	s, err := h.sessions.Get(ctx, id)
	if errors.Is(err, session.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if s.Transport != transport {
		return nil, ErrNotFound
	}
	if s.Principal.Key() != p.Key() {
		return nil, ErrForbidden
	}
	if err := h.sessions.MarkUsed(ctx, s); err != nil && !errors.Is(err, session.ErrNotFound) {
		h.log.Warn("touching session", "session", session.Short(s.ID), "err", err)
	}
	return s, nil
}

// Lookup returns the live state of a resolved session, building it and
// attaching its client if this replica has not served the session yet (it
// was created on another replica, with a shared store), or if the session
// was initialized elsewhere since.
func (h *Hub) Lookup(ctx context.Context, s *session.Session) *Live {
	h.mu.RLock()
	ls := h.live[s.ID]
	h.mu.RUnlock()
	if ls != nil {
		if ls.Client() == nil && s.ProtocolVersion != "" && !h.IsClosing() {
			h.adopt(ls, h.newClient(ls, s, nil))
		}
		return ls
	}
	if h.IsClosing() {
		// After Shutdown began, notifications and responses still reach
		// the core but nothing new is attached.
		return h.newLive(s, nil)
	}
	ls = h.register(h.newLive(s, nil))
	// The session may have ended between the store lookup and register; if
	// so, undo the attach rather than keep a dead client.
	if _, err := h.sessions.Get(ctx, s.ID); errors.Is(err, session.ErrNotFound) {
		h.End(ctx, s.ID, "ended during attach")
	}
	return ls
}

// register adds ls to the live sessions and attaches its client, if it has
// one, to the core. It returns the live session already registered under
// the ID, if another request got there first.
func (h *Hub) register(ls *Live) *Live {
	h.mu.Lock()
	if cur := h.live[ls.id]; cur != nil {
		h.mu.Unlock()
		ls.cancel()
		return cur
	}
	h.live[ls.id] = ls
	h.mu.Unlock()
	if c := ls.Client(); c != nil {
		h.core.Attach(c)
	}
	return ls
}

// StartCall counts a call in ls in; it returns false, counting nothing,
// when the session already has Options.MaxConcurrentCalls in flight.
func (h *Hub) StartCall(ls *Live) bool {
	if ls.calls.Add(1) > int32(h.opts.MaxConcurrentCalls) {
		ls.calls.Add(-1)
		return false
	}
	return true
}

// End ends a session on this replica: its calls and streams are cancelled,
// the core forgets it, and its streams leave the event log. The record is
// already gone from the store (see Delete). reason is logged.
func (h *Hub) End(ctx context.Context, id, reason string) {
	h.mu.Lock()
	ls := h.live[id]
	delete(h.live, id)
	if ls != nil {
		h.retireLocked(ls)
	}
	h.mu.Unlock()
	if ls != nil {
		ls.cancel()
		if ls.Client() != nil {
			h.core.Detach(id)
		}
	}
	if err := h.events.DeleteSession(context.WithoutCancel(ctx), id); err != nil {
		h.log.Warn("deleting session streams", "session", session.Short(id), "err", err)
	}
	if ls != nil {
		h.log.Info("session ended", "session", session.Short(id), "reason", reason, "transport", ls.transport,
			"principal", ls.principal.Name, "duration", time.Since(ls.created).Round(time.Millisecond),
			"events_sent", ls.events.Load(), "bytes_sent", ls.bytes.Load())
	}
}

// Delete removes the session's record and ends it: a client's DELETE, or
// the end of a 2024-11-05 session's stream. It returns ErrNotFound if the
// record was already gone (the session still ends here).
func (h *Hub) Delete(ctx context.Context, id, reason string) error {
	err := h.sessions.Delete(context.WithoutCancel(ctx), id)
	h.End(ctx, id, reason)
	if errors.Is(err, session.ErrNotFound) {
		return ErrNotFound
	}
	return err
}

// SessionExpired ends a session the Manager expired: its streams close, its
// calls are cancelled and the core forgets it. Wire it to
// session.Config.OnExpire; it serves the sessions of every transport.
func (h *Hub) SessionExpired(s *session.Session, reason session.ExpireReason) {
	h.End(context.Background(), s.ID, "expired: "+string(reason))
}
