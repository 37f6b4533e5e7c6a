package mcpsession

import (
	"bytes"
	"context"
	"runtime/debug"

	"github.com/mcpgate/mcpgate/internal/httpkit"
	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/relay"
)

// callContext is the context of a call: the request's values (principal,
// request ID) with the session's lifetime, not the HTTP request's:
// disconnection is not cancellation ([T §Sending Messages] 6), the end of
// the session is.
//
// Contexts derived from a call context (the relay's WithTimeout per call)
// look for their nearest cancelCtx through Value with the context
// package's private key; Value answers that one key from the session's
// context, so they find the session's cancelCtx, whose Done channel is
// this context's, and register with it directly: no AfterFunc, closure or
// goroutine (two allocations less per call than the AfterFunc method
// below, which stays as the fallback should the key not be known).
type callContext struct {
	context.Context                 // the session's: Done, Err, Deadline
	values          context.Context // the request's
}

func (c callContext) Value(key any) any {
	if key == cancelCtxKey && key != nil {
		return c.Context.Value(key)
	}
	return c.values.Value(key)
}

// cancelCtxKey is the key with which the context package asks a context
// for its nearest cancelCtx (an unexported variable's address). It is
// learnt once from context.Cause, which asks for it; nil if Cause ever
// stops asking, and callContext then answers every key from the request.
var cancelCtxKey = func() any {
	var p keyProbe
	_ = context.Cause(&p)
	return p.key
}()

// keyProbe is a cancelled context that records the first key it is asked
// for.
type keyProbe struct {
	context.Context
	key any
}

func (p *keyProbe) Err() error { return context.Canceled }

func (p *keyProbe) Value(key any) any {
	if p.key == nil {
		p.key = key
	}
	return nil
}

// AfterFunc arranges for f to run once the session's context is done, the
// way context.AfterFunc does. Contexts derived from a callContext use it
// only if they cannot find the session's cancelCtx through Value.
func (c callContext) AfterFunc(f func()) (stop func() bool) {
	return context.AfterFunc(c.Context, f)
}

// CallContext returns the context for the calls of one HTTP request in ls:
// values from the request's context, lifetime from the session.
func CallContext(ls *Live, request context.Context) context.Context {
	return callContext{Context: ls.ctx, values: request}
}

// CallCtx is a call context (CallContext) that a caller keeps in a struct
// of its own and uses by pointer, which saves the allocation of boxing it.
type CallCtx struct{ callContext }

// NewCallCtx returns the call context of one HTTP request in ls; use it as
// &c.
func NewCallCtx(ls *Live, request context.Context) CallCtx {
	return CallCtx{callContext{Context: ls.ctx, values: request}}
}

// Call asks the core to answer one request in ls and returns the encoded
// response, or nil when no response is due (the client cancelled the
// request). A panic, or an answer that is not a response, becomes an
// internal error for that request only; a response under another id is
// given the request's.
func (h *Hub) Call(ctx context.Context, ls *Live, req *jsonrpc.Message, out relay.Stream) (resp []byte) {
	defer func() {
		if v := recover(); v != nil {
			h.log.Error("panic in core", "method", req.Method, "panic", v, "stack", string(debug.Stack()),
				"request_id", httpkit.RequestIDFromContext(ctx))
			resp = InternalError(req.ID)
		}
	}()
	m := h.core.HandleRequest(ctx, ls.Client(), req, out)
	if m == nil {
		return nil
	}
	if m.Kind() != jsonrpc.KindResponse {
		h.log.Error("core returned no response", "method", req.Method, "request_id", httpkit.RequestIDFromContext(ctx))
		return InternalError(req.ID)
	}
	if !bytes.Equal(m.ID, req.ID) {
		h.log.Error("core answered with another id", "method", req.Method, "request_id", httpkit.RequestIDFromContext(ctx))
		m.ID = req.ID
	}
	return jsonrpc.Encode(m)
}

// InternalError is the encoded JSON-RPC internal error response to id.
func InternalError(id []byte) []byte {
	return jsonrpc.Encode(jsonrpc.NewErrorResponse(id, jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error")))
}
