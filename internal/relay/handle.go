package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// callKey identifies a client request in flight: session and raw id.
type callKey struct {
	session string
	id      string
}

// call is a client request forwarded to an upstream.
type call struct {
	client   *Client
	clientID json.RawMessage
	upstream string
	out      Stream
	// clientToken is the client's progress token, restored on progress
	// notifications; gatewayToken replaced it upstream.
	clientToken  json.RawMessage
	gatewayToken string

	// cancel ends the call's context with a cause; clientCancelled records
	// that the client asked for it (set before cancel is called). One
	// context per call is all the relay derives: contexts are a measurable
	// part of a call's cost. deadline is when the sweeper ends the call
	// (deadline.go); zero for calls it does not time (parked calls have a
	// timer of their own).
	cancel          context.CancelCauseFunc
	deadline        time.Time
	clientCancelled atomic.Bool
	key             callKey // in Relay.calls
}

// HandleRequest answers one client request. Messages related to it go to out
// before it returns. It returns nil when the client cancelled the request:
// then no response is due ([C]: the receiver should not respond).
func (r *Relay) HandleRequest(ctx context.Context, c *Client, msg *jsonrpc.Message, out Stream) *jsonrpc.Message {
	if c.Stateless {
		return r.handleStateless(ctx, c, msg, out)
	}
	result, rpcErr := r.dispatch(ctx, c, msg, out)
	switch {
	case rpcErr == errNoResponse:
		return nil
	case rpcErr != nil:
		return jsonrpc.NewErrorResponse(msg.ID, rpcErr)
	}
	return jsonrpc.NewResponse(msg.ID, result)
}

// errNoResponse marks a request that gets no response.
var errNoResponse = &jsonrpc.Error{Code: jsonrpc.CodeRequestCancelled, Message: "Request cancelled"}

var emptyResult = json.RawMessage(`{}`)

func (r *Relay) dispatch(ctx context.Context, c *Client, msg *jsonrpc.Message, out Stream) (json.RawMessage, *jsonrpc.Error) {
	if msg.Method == mcp.MethodPing {
		return emptyResult, nil // [P]
	}
	cat, rpcErr := r.catalogFor(ctx, c)
	if rpcErr != nil {
		return nil, rpcErr
	}
	switch msg.Method {
	case mcp.MethodInitialize:
		return nil, jsonrpc.NewError(jsonrpc.CodeInvalidRequest, "Invalid Request: the session is already initialized")
	case mcp.MethodToolsList, mcp.MethodPromptsList, mcp.MethodResourcesList, mcp.MethodResourcesTemplatesList:
		// Served from the catalog; a stale list is read again in the
		// background (freshness.go).
		k := listKindOf(msg.Method)
		r.listFresh(c, cat, k)
		return listPage(cat.result(k), msg.Params)
	case mcp.MethodToolsCall:
		return r.forwardNamed(ctx, c, msg, out, cat.tools, "tool")
	case mcp.MethodPromptsGet:
		return r.forwardNamed(ctx, c, msg, out, cat.prompts, "prompt")
	case mcp.MethodResourcesRead, mcp.MethodResourcesSubscribe, mcp.MethodResourcesUnsubscribe:
		return r.forwardResource(ctx, c, msg, out, cat)
	case mcp.MethodCompletionComplete:
		return r.forwardCompletion(ctx, c, msg, out, cat)
	case mcp.MethodLoggingSetLevel:
		return r.setLevel(ctx, c, msg)
	}
	return nil, jsonrpc.NewError(jsonrpc.CodeMethodNotFound, "Method not found: "+truncate(msg.Method, 100))
}

// listPage serves an aggregated list as one page. A cursor is never issued,
// so any cursor is invalid ([server/utilities/pagination]: -32602).
func listPage(result json.RawMessage, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
	if len(params) > 0 {
		var p struct {
			Cursor *string `json:"cursor"`
		}
		if json.Unmarshal(params, &p) != nil {
			return nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params")
		}
		if p.Cursor != nil {
			return nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params: unknown cursor")
		}
	}
	return result, nil
}

// namedParams are the routing fields of tools/call and prompts/get.
type namedParams struct {
	Name string   `json:"name"`
	Meta metaPart `json:"_meta"`
}

type metaPart struct {
	ProgressToken json.RawMessage `json:"progressToken"`
}

func (r *Relay) forwardNamed(ctx context.Context, c *Client, msg *jsonrpc.Message, out Stream, routes map[string]route, what string) (json.RawMessage, *jsonrpc.Error) {
	rtg, fast := readRouting(msg.Params, "name")
	if !fast {
		var p namedParams
		if len(msg.Params) == 0 || json.Unmarshal(msg.Params, &p) != nil {
			return nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params: "+what+" name required")
		}
		rtg = routing{key: p.Name, token: p.Meta.ProgressToken}
	}
	if rtg.key == "" {
		return nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params: "+what+" name required")
	}
	rt, ok := routes[rtg.key]
	if !ok {
		return nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, fmt.Sprintf("Unknown %s: %s", what, truncate(rtg.key, 128)))
	}
	up := upstreamParams{routing: rtg, fast: fast}
	if rt.name != rtg.key {
		up.newName = rt.name
	}
	return r.forward(ctx, c, msg, out, rt.upstream, up)
}

type resourceParams struct {
	URI  string   `json:"uri"`
	Meta metaPart `json:"_meta"`
}

func (r *Relay) forwardResource(ctx context.Context, c *Client, msg *jsonrpc.Message, out Stream, cat *catalog) (json.RawMessage, *jsonrpc.Error) {
	rtg, fast := readRouting(msg.Params, "uri")
	if !fast {
		var p resourceParams
		if len(msg.Params) == 0 || json.Unmarshal(msg.Params, &p) != nil {
			return nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params: uri required")
		}
		rtg = routing{key: p.URI, token: p.Meta.ProgressToken}
	}
	if rtg.key == "" {
		return nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params: uri required")
	}
	uri := rtg.key
	name, ok := r.resourceOwner(cat, uri)
	if !ok {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeResourceNotFound, Message: "Resource not found",
			Data: jsonrpc.MustRaw(map[string]string{"uri": truncate(uri, 512)})}
	}
	up := upstreamParams{routing: rtg, fast: fast}
	// An upstream is shared by sessions: it is subscribed on the first
	// subscriber and unsubscribed after the last, and the gateway fans
	// notifications/resources/updated out to the subscribed sessions.
	key := r.subKey(name, c, uri)
	if u, _ := r.conn(name); msg.Method != mcp.MethodResourcesRead && u.Conn != nil && isModern(u.Conn) {
		return r.modernSubscribe(msg.Method, name, u.Conn, c, key, uri) // modern_subs.go: a listen, not resources/subscribe
	}
	switch msg.Method {
	case mcp.MethodResourcesSubscribe:
		if r.subscribe(c.SessionID, key) > 1 {
			return emptyResult, nil
		}
		res, rpcErr := r.forward(ctx, c, msg, out, name, up)
		if rpcErr != nil {
			r.unsubscribe(c.SessionID, key)
		}
		return res, rpcErr
	case mcp.MethodResourcesUnsubscribe:
		if r.unsubscribe(c.SessionID, key) > 0 {
			return emptyResult, nil
		}
	}
	return r.forward(ctx, c, msg, out, name, up)
}

type completionParams struct {
	Ref struct {
		Type string `json:"type"`
		Name string `json:"name"`
		URI  string `json:"uri"`
	} `json:"ref"`
	Meta metaPart `json:"_meta"`
}

func (r *Relay) forwardCompletion(ctx context.Context, c *Client, msg *jsonrpc.Message, out Stream, cat *catalog) (json.RawMessage, *jsonrpc.Error) {
	var p completionParams
	if len(msg.Params) == 0 || json.Unmarshal(msg.Params, &p) != nil {
		return nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params: ref required")
	}
	switch p.Ref.Type {
	case "ref/prompt":
		rt, ok := cat.prompts[p.Ref.Name]
		if !ok {
			return nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Unknown prompt: "+truncate(p.Ref.Name, 128))
		}
		var rename map[string]json.RawMessage
		if rt.name != p.Ref.Name {
			var obj map[string]json.RawMessage
			_ = json.Unmarshal(msg.Params, &obj)
			var ref map[string]json.RawMessage
			_ = json.Unmarshal(obj["ref"], &ref)
			ref["name"] = jsonrpc.MustRaw(rt.name)
			rename = map[string]json.RawMessage{"ref": jsonrpc.MustRaw(ref)}
		}
		return r.forward(ctx, c, msg, out, rt.upstream, upstreamParams{routing: routing{token: p.Meta.ProgressToken}, rename: rename})
	case "ref/resource":
		name, ok := r.resourceOwner(cat, p.Ref.URI)
		if !ok {
			return nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Unknown resource: "+truncate(p.Ref.URI, 512))
		}
		return r.forward(ctx, c, msg, out, name, upstreamParams{routing: routing{token: p.Meta.ProgressToken}})
	}
	return nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params: ref.type must be ref/prompt or ref/resource")
}

// upstreamParams say how a request's params change on their way upstream.
type upstreamParams struct {
	routing routing
	// fast reports that routing came from readRouting: its spans locate
	// the name and the token exactly, so they can be spliced.
	fast bool
	// newName is the upstream's own name for the tool or prompt, when it
	// differs from the client's (namespacing); "" keeps the name.
	newName string
	// rename holds other top-level replacements (completion's ref); they
	// take the slow path.
	rename map[string]json.RawMessage
}

// apply returns params as the upstream gets them: the progress token (if
// gatewayToken is set) and the name replaced.
func (up *upstreamParams) apply(params json.RawMessage, gatewayToken string) (json.RawMessage, *jsonrpc.Error) {
	if up.fast && len(up.rename) == 0 {
		var buf [2]splice
		edits := buf[:0]
		if gatewayToken != "" {
			edits = append(edits, splice{up.routing.tokenAt, jsonrpc.AppendString(nil, gatewayToken)})
		}
		if up.newName != "" {
			edits = append(edits, splice{up.routing.keyAt, jsonrpc.AppendString(nil, up.newName)})
		}
		if len(edits) == 0 {
			return params, nil
		}
		return applySplices(params, edits), nil
	}
	if gatewayToken != "" {
		var err error
		if params, err = replaceProgressToken(params, gatewayToken); err != nil {
			return nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params: _meta")
		}
	}
	rename := up.rename
	if up.newName != "" {
		rename = map[string]json.RawMessage{"name": jsonrpc.MustRaw(up.newName)}
		for k, v := range up.rename {
			rename[k] = v
		}
	}
	if len(rename) > 0 {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(params, &obj); err != nil {
			return nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params")
		}
		for k, v := range rename {
			obj[k] = v
		}
		params = jsonrpc.MustRaw(obj)
	}
	return params, nil
}

// forward sends msg to upstream name, with its params changed as up says:
// the progress token (if any) replaced by a gateway token, the name by the
// upstream's own.
func (r *Relay) forward(ctx context.Context, c *Client, msg *jsonrpc.Message, out Stream, name string, up upstreamParams) (json.RawMessage, *jsonrpc.Error) {
	if r.parkable(c, msg.Method, name) {
		return r.forwardMRTR(ctx, c, msg, out, name, up) // docs/protocol-eras.md §4.3 A
	}
	u, ok := r.conn(name)
	if !ok {
		return nil, jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error")
	}
	cl, params, rpcErr := r.newCall(c, msg, name, &up, out)
	if rpcErr != nil {
		return nil, rpcErr
	}

	r.startSweeper()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	cl.cancel, cl.deadline = cancel, time.Now().Add(u.CallTimeout)
	if !r.track(cl) {
		return nil, jsonrpc.NewError(jsonrpc.CodeInvalidRequest, "Invalid Request: request id already in flight")
	}
	defer r.untrack(cl)

	conn := u.Conn
	if u.PerUser != nil {
		var release func()
		var err error
		if conn, release, err = u.PerUser.Acquire(ctx, c.Principal.Key()); err != nil {
			return nil, r.acquireError(name, err)
		}
		defer release()
	}
	resp, err := r.callUpstream(ctx, cl, conn, msg.Method, params) // modern.go: eras of upstreams
	switch {
	case err == nil:
	case cl.clientCancelled.Load():
		return nil, errNoResponse
	case errors.Is(err, context.DeadlineExceeded) || context.Cause(ctx) == errCallTimedOut:
		r.log.Warn("upstream call timed out", "upstream", name, "method", msg.Method, "timeout", u.CallTimeout)
		if r.opts.OnCallTimeout != nil {
			r.opts.OnCallTimeout(name)
		}
		return nil, jsonrpc.NewError(jsonrpc.CodeUpstreamUnavailable, fmt.Sprintf("Upstream %q did not answer in time", name))
	case errors.Is(err, upstream.ErrUnavailable):
		return nil, jsonrpc.NewError(jsonrpc.CodeUpstreamUnavailable, fmt.Sprintf("Upstream %q is unavailable", name))
	default:
		r.log.Warn("upstream call failed", "upstream", name, "method", msg.Method, "err", err)
		return nil, jsonrpc.NewError(jsonrpc.CodeUpstreamUnavailable, fmt.Sprintf("Upstream %q failed", name))
	}
	if resp.Error != nil {
		return nil, resp.Error
	}
	return resp.Result, nil
}

// replaceProgressToken returns params with _meta.progressToken set to token,
// keeping every other field.
func replaceProgressToken(params json.RawMessage, token string) (json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(params, &obj); err != nil {
		return nil, err
	}
	var meta map[string]json.RawMessage
	if err := json.Unmarshal(obj["_meta"], &meta); err != nil {
		return nil, err
	}
	meta["progressToken"] = jsonrpc.MustRaw(token)
	obj["_meta"] = jsonrpc.MustRaw(meta)
	return jsonrpc.MustRaw(obj), nil
}

func (r *Relay) track(cl *call) bool {
	cl.key = callKey{cl.client.SessionID, string(cl.clientID)}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.calls[cl.key]; dup {
		return false
	}
	r.calls[cl.key] = cl
	if cl.gatewayToken != "" {
		r.progress[cl.gatewayToken] = cl
	}
	return true
}

func (r *Relay) untrack(cl *call) {
	r.mu.Lock()
	delete(r.calls, cl.key)
	if cl.gatewayToken != "" {
		delete(r.progress, cl.gatewayToken)
	}
	r.mu.Unlock()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
