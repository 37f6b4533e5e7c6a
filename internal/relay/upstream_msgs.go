package relay

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// UpstreamReady implements upstream.Handler: an upstream (re)initialized, so
// its lists are read again and clients hear of any change.
func (r *Relay) UpstreamReady(name string, info *upstream.Info) {
	r.goRefresh(name, listTools, listPrompts, listResources, listTemplates)
	r.listenUpstream(name, info) // modern upstreams announce changes on a listen (modern_listen.go)
}

// Refresh reads every upstream's lists now and waits until done; the
// composition root calls it once the upstreams are ready, so the first
// client sees complete lists.
func (r *Relay) Refresh(ctx context.Context) {
	var wg sync.WaitGroup
	for _, u := range r.upstreams {
		if u.Conn == nil {
			continue // per-user lists are read when each user first needs them
		}
		wg.Go(func() { r.refresh(ctx, u.Name, listTools, listPrompts, listResources, listTemplates) })
	}
	wg.Wait()
}

// goRefresh re-reads lists in the background (never on an upstream's read
// loop, which must keep reading for the list calls to be answered) and sends
// list_changed to every attached client for each list that changed.
func (r *Relay) goRefresh(name string, kinds ...listKind) {
	r.wg.Go(func() {
		changed := r.refresh(r.ctx, name, kinds...)
		r.notifyListens(changed, nil)
		for k, methods := range [...]string{
			listTools:     mcp.NotificationToolsListChanged,
			listPrompts:   mcp.NotificationPromptsListChanged,
			listResources: mcp.NotificationResourcesListChanged,
		} {
			if changed[k] {
				r.broadcast(jsonrpc.NewNotification(methods, nil))
			}
		}
	})
}

// broadcast sends msg to the standalone stream of every attached client.
func (r *Relay) broadcast(msg *jsonrpc.Message) {
	r.mu.Lock()
	targets := make([]*Client, 0, len(r.clients))
	for _, c := range r.clients {
		targets = append(targets, c)
	}
	r.mu.Unlock()
	for _, c := range targets {
		r.sendStandalone(c, msg)
	}
}

func (r *Relay) sendStandalone(c *Client, msg *jsonrpc.Message) {
	if c.Standalone == nil {
		return
	}
	if err := c.Standalone.Send(msg); err != nil {
		r.log.Debug("standalone stream refused a message", "session", c.SessionID, "method", msg.Method, "err", err)
	}
}

// UpstreamMessage implements upstream.Handler: a notification or a request
// from an upstream, routed to the right client.
func (r *Relay) UpstreamMessage(name string, msg *jsonrpc.Message) {
	u, ok := r.conn(name)
	if !ok || u.Conn == nil {
		return
	}
	r.upstreamMessage(origin{upstream: name, conn: u.Conn}, msg)
}

// origin is where an upstream message came from: the upstream, the
// connection to answer on, and for a per-user connection its user.
type origin struct {
	upstream string
	conn     upstream.Conn
	user     string // "" for a shared connection
}

func (r *Relay) upstreamMessage(o origin, msg *jsonrpc.Message) {
	name := o.upstream
	if msg.IsRequest() {
		r.upstreamRequest(o, msg)
		return
	}
	switch msg.Method {
	case mcp.NotificationProgress:
		r.upstreamProgress(msg)
	case mcp.NotificationMessage:
		r.upstreamLog(o, msg)
	case mcp.NotificationCancelled:
		r.upstreamCancelled(o, msg)
	case mcp.NotificationToolsListChanged:
		r.goRefreshFrom(o, listTools)
	case mcp.NotificationPromptsListChanged:
		r.goRefreshFrom(o, listPrompts)
	case mcp.NotificationResourcesListChanged:
		r.goRefreshFrom(o, listResources, listTemplates)
	case mcp.NotificationResourceUpdated:
		r.upstreamResourceUpdated(o, msg)
	case mcp.NotificationSubscriptionsAcknowledged:
		r.upstreamListenAcked(o, msg) // modern_listen_ack.go
	case notificationTasks, notificationTasksStatus:
		r.upstreamTaskStatus(o, msg) // tasks_listen.go
	default:
		r.log.Debug("upstream notification dropped", "upstream", name, "method", truncate(msg.Method, 100))
	}
}

// upstreamProgress restores the client's progress token and sends the
// notification on the stream of the request it belongs to ([PR]).
func (r *Relay) upstreamProgress(msg *jsonrpc.Message) {
	var p map[string]json.RawMessage
	if json.Unmarshal(msg.Params, &p) != nil {
		return
	}
	var token string
	if json.Unmarshal(p["progressToken"], &token) != nil {
		return
	}
	r.mu.Lock()
	cl := r.progress[token]
	r.mu.Unlock()
	if cl == nil {
		return // finished or unknown: progress must stop after completion
	}
	p["progressToken"] = cl.clientToken
	_ = cl.out.Send(jsonrpc.NewNotification(msg.Method, jsonrpc.MustRaw(p)))
}

// attribute decides which client a message from a shared upstream belongs
// to, when the message itself does not say (logging, server→client
// requests: MCP over stdio carries no link to the originating request).
// Only an unambiguous answer is given: exactly one session has requests in
// flight on that upstream. Then the message goes on that request's stream
// when there is one request, else on the session's standalone stream. A
// message is never guessed onto another user's session.
func (r *Relay) attribute(o origin) (c *Client, out Stream, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var only *call
	n := 0
	for _, cl := range r.calls {
		if cl.upstream != o.upstream || !o.owns(cl.client) || cl.parkedIdle() {
			continue
		}
		if only != nil && only.client.SessionID != cl.client.SessionID {
			return nil, nil, false
		}
		only = cl
		n++
	}
	if only == nil {
		return nil, nil, false
	}
	if n == 1 {
		return only.client, only.out, true
	}
	return only.client, only.client.Standalone, only.client.Standalone != nil
}

// upstreamLog routes notifications/message: to the one session with work in
// flight on that upstream, or, with none in flight, to every session that
// asked for logs with logging/setLevel. Each session's level filters.
func (r *Relay) upstreamLog(o origin, msg *jsonrpc.Message) {
	name := o.upstream
	var p struct {
		Level string `json:"level"`
	}
	_ = json.Unmarshal(msg.Params, &p)
	lvl, known := logLevelOrder[p.Level]
	if !known {
		lvl = logLevelOrder["info"]
	}
	if c, out, ok := r.attribute(o); ok {
		if r.wantsLog(c.SessionID, lvl, true) {
			_ = out.Send(msg)
		}
		return
	}
	r.mu.Lock()
	busy := false
	for _, cl := range r.calls {
		if cl.upstream == name && o.owns(cl.client) {
			busy = true
			break
		}
	}
	var targets []*Client
	if !busy {
		for id, c := range r.clients {
			if min, set := r.logLevels[id]; set && lvl >= min && o.owns(c) {
				targets = append(targets, c)
			}
		}
	}
	r.mu.Unlock()
	if busy {
		r.log.Debug("upstream log message not attributable", "upstream", name)
	}
	for _, c := range targets {
		r.sendStandalone(c, msg)
	}
}

// wantsLog reports whether a session receives a log message of level lvl:
// at or above the level it set; with no level set, def decides.
func (r *Relay) wantsLog(sessionID string, lvl int, def bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	min, set := r.logLevels[sessionID]
	if !set {
		return def
	}
	return lvl >= min
}

func (r *Relay) upstreamResourceUpdated(o origin, msg *jsonrpc.Message) {
	var p struct {
		URI string `json:"uri"`
	}
	if json.Unmarshal(msg.Params, &p) != nil {
		return
	}
	r.mu.Lock()
	var targets []*Client
	for id := range r.subs[o.subKey(p.URI)] {
		if c := r.clients[id]; c != nil {
			targets = append(targets, c)
		}
	}
	r.mu.Unlock()
	for _, c := range targets {
		r.sendStandalone(c, msg)
	}
	r.notifyListensUpdated(o, p.URI, msg.Params) // listensubs.go
}

// serverRequest is a request an upstream made that a client must answer.
type serverRequest struct {
	upstream      string
	conn          upstream.Conn // where the answer goes
	upstreamID    json.RawMessage
	sessionID     string
	clientID      string // the id the gateway gave it towards the client
	progressToken json.RawMessage
	out           Stream
	timer         *time.Timer
	// reply, when set, receives the client's answer (or the failure)
	// instead of an upstream: an input request of a modern upstream's
	// InputRequiredResult (modern_mrtr.go).
	reply func(resp *jsonrpc.Message, err error)
}

func (sr *serverRequest) stop() {
	if sr.timer != nil {
		sr.timer.Stop()
	}
}

var errSessionGone = errors.New("client session ended")

// upstreamRequest relays a server→client request (sampling, elicitation,
// roots) to the client it belongs to, under a gateway id; the answer comes
// back through HandleResponse.
func (r *Relay) upstreamRequest(o origin, msg *jsonrpc.Message) {
	name := o.upstream
	if msg.Method == mcp.MethodPing {
		r.respondUpstream(o.conn, name, jsonrpc.NewResponse(msg.ID, emptyResult)) // [P]
		return
	}
	c, out, ok := r.attribute(o)
	if !ok {
		r.log.Info("server request not attributable to one session", "upstream", name, "method", truncate(msg.Method, 100))
		r.respondUpstream(o.conn, name, jsonrpc.NewErrorResponse(msg.ID, jsonrpc.NewError(jsonrpc.CodeInternalError,
			"mcpgate: no single client session to route this request to")))
		return
	}
	if !clientSupports(c, msg.Method) {
		r.respondUpstream(o.conn, name, jsonrpc.NewErrorResponse(msg.ID, jsonrpc.NewError(jsonrpc.CodeMethodNotFound,
			"Client does not support "+truncate(msg.Method, 100))))
		return
	}
	id := strconv.FormatInt(r.nextID.Add(1), 10)
	sr := &serverRequest{upstream: name, conn: o.conn, upstreamID: msg.ID, sessionID: c.SessionID, clientID: id, out: out}
	var p struct {
		Meta metaPart `json:"_meta"`
	}
	if json.Unmarshal(msg.Params, &p) == nil {
		sr.progressToken = p.Meta.ProgressToken
	}
	r.mu.Lock()
	r.serverReqs[id] = sr
	r.mu.Unlock()
	sr.timer = time.AfterFunc(r.opts.ServerRequestTimeout, func() { r.serverRequestTimedOut(id) })
	if err := out.Send(&jsonrpc.Message{JSONRPC: jsonrpc.Version, ID: json.RawMessage(id), Method: msg.Method, Params: msg.Params}); err != nil {
		r.mu.Lock()
		delete(r.serverReqs, id)
		r.mu.Unlock()
		sr.stop()
		r.answerUpstream(sr, nil, err)
	}
}

func clientSupports(c *Client, method string) bool {
	switch method {
	case mcp.MethodSamplingCreateMessage:
		return c.Capabilities.Sampling
	case mcp.MethodElicitationCreate:
		return c.Capabilities.Elicitation
	case mcp.MethodRootsList:
		return c.Capabilities.Roots
	}
	return true
}

func (r *Relay) serverRequestTimedOut(id string) {
	r.mu.Lock()
	sr := r.serverReqs[id]
	delete(r.serverReqs, id)
	r.mu.Unlock()
	if sr == nil {
		return
	}
	// Tell the client to stop, and the upstream that no answer is coming.
	_ = sr.out.Send(jsonrpc.NewNotification(mcp.NotificationCancelled,
		jsonrpc.MustRaw(map[string]any{"requestId": json.RawMessage(id), "reason": "timed out"})))
	r.answerUpstream(sr, nil, context.DeadlineExceeded)
}

// upstreamCancelled: the upstream withdrew a request it made; the client
// hears it under the gateway's id.
func (r *Relay) upstreamCancelled(o origin, msg *jsonrpc.Message) {
	var p map[string]json.RawMessage
	if json.Unmarshal(msg.Params, &p) != nil {
		return
	}
	upID := string(p["requestId"])
	r.mu.Lock()
	var sr *serverRequest
	for id, cand := range r.serverReqs {
		if cand.conn == o.conn && string(cand.upstreamID) == upID {
			sr = cand
			delete(r.serverReqs, id)
			break
		}
	}
	r.mu.Unlock()
	if sr == nil {
		return
	}
	sr.stop()
	p["requestId"] = json.RawMessage(sr.clientID)
	_ = sr.out.Send(jsonrpc.NewNotification(msg.Method, jsonrpc.MustRaw(p)))
}

// answerUpstream sends the client's answer (or an error) back under the
// upstream's id.
func (r *Relay) answerUpstream(sr *serverRequest, clientResp *jsonrpc.Message, err error) {
	if sr.reply != nil {
		sr.reply(clientResp, err)
		return
	}
	var resp *jsonrpc.Message
	switch {
	case clientResp != nil && clientResp.Error != nil:
		resp = jsonrpc.NewErrorResponse(sr.upstreamID, clientResp.Error)
	case clientResp != nil:
		resp = jsonrpc.NewResponse(sr.upstreamID, clientResp.Result)
	default:
		r.log.Debug("server request failed", "upstream", sr.upstream, "err", err)
		resp = jsonrpc.NewErrorResponse(sr.upstreamID, jsonrpc.NewError(jsonrpc.CodeInternalError, "mcpgate: the client did not answer"))
	}
	r.respondUpstream(sr.conn, sr.upstream, resp)
}

func (r *Relay) respondUpstream(conn upstream.Conn, name string, resp *jsonrpc.Message) {
	ctx, cancel := context.WithTimeout(r.ctx, 5*time.Second)
	defer cancel()
	if err := conn.Respond(ctx, resp); err != nil {
		r.log.Debug("answering upstream request", "upstream", name, "err", err)
	}
}
