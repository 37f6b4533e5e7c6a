package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"sync"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// request is one client request as a handler sees it.
type request struct {
	id     json.RawMessage
	method string
	params json.RawMessage
	// progressToken is params._meta.progressToken, nil when absent
	// [PR: the token goes in the request's _meta].
	progressToken json.RawMessage
}

// handlerFunc answers a request. It returns the result (marshaled with
// json.Marshal unless it is already json.RawMessage) or a JSON-RPC error.
type handlerFunc func(ctx context.Context, s *server, r *request) (any, *jsonrpc.Error)

// method describes how a request method is served.
type method struct {
	handle handlerFunc
	// inline methods only touch server state: they are answered in order on
	// the read loop, so that e.g. a tools/list sent right after initialize
	// sees the session initialized.
	inline bool
}

// methods is the dispatch table.
var methods = map[string]method{
	mcp.MethodInitialize:             {handleInitialize, true},
	mcp.MethodPing:                   {handlePing, true},
	mcp.MethodLoggingSetLevel:        {handleSetLevel, true},
	mcp.MethodResourcesSubscribe:     {handleSubscribe, true},
	mcp.MethodResourcesUnsubscribe:   {handleUnsubscribe, true},
	mcp.MethodToolsList:              {handleToolsList, false},
	mcp.MethodToolsCall:              {handleToolsCall, false},
	mcp.MethodPromptsList:            {handlePromptsList, false},
	mcp.MethodPromptsGet:             {handlePromptsGet, false},
	mcp.MethodResourcesList:          {handleResourcesList, false},
	mcp.MethodResourcesTemplatesList: {handleTemplatesList, false},
	mcp.MethodResourcesRead:          {handleResourcesRead, false},
	mcp.MethodCompletionComplete:     {handleComplete, false},
}

// replyFunc receives a request's response; nil means the request ends
// without one (it was cancelled).
type replyFunc func(*jsonrpc.Message)

// handleLine decodes and serves one line from the client: a message or, in
// protocol version 2025-03-26 only, a batch.
func (s *server) handleLine(ctx context.Context, line []byte) {
	if line == nil {
		s.send(jsonrpc.NewErrorResponse(nil, jsonrpc.NewError(jsonrpc.CodeParseError, "Parse error: message too long")))
		return
	}
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return
	}
	if line[0] == '[' {
		s.handleBatch(ctx, line)
		return
	}
	m, rpcErr := jsonrpc.Decode(line)
	if rpcErr != nil {
		// Answer with the id when one can be read, else null [B: error responses].
		s.send(jsonrpc.NewErrorResponse(readableID(line), rpcErr))
		return
	}
	s.handleMessage(ctx, m, s.reply)
}

// reply sends a response, if any; it is the replyFunc of single messages.
func (s *server) reply(m *jsonrpc.Message) {
	if m != nil {
		s.send(m)
	}
}

// handleBatch serves a JSON-RPC batch. Batches exist only in 2025-03-26
// [B0326 §Batching]; they were removed in 2025-06-18 [CL06], so any other
// version (or none yet) gets one Invalid Request error.
func (s *server) handleBatch(ctx context.Context, line []byte) {
	s.mu.Lock()
	allow := mcp.AllowsBatch(s.version)
	s.mu.Unlock()
	if !allow {
		_, _, rpcErr := jsonrpc.DecodeBatch(line, false)
		s.send(jsonrpc.NewErrorResponse(nil, rpcErr))
		return
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(line, &raws); err != nil {
		s.send(jsonrpc.NewErrorResponse(nil, jsonrpc.NewError(jsonrpc.CodeParseError, "Parse error: invalid JSON")))
		return
	}
	if len(raws) == 0 {
		s.send(jsonrpc.NewErrorResponse(nil, jsonrpc.NewError(jsonrpc.CodeInvalidRequest, "Invalid Request: empty batch")))
		return
	}
	// One response per request, sent together as an array once all are done;
	// notifications and responses get none [JSON-RPC 2.0 §6].
	b := &batchReply{s: s, left: len(raws)}
	for _, raw := range raws {
		m, rpcErr := jsonrpc.Decode(raw)
		switch {
		case rpcErr != nil:
			b.reply(jsonrpc.NewErrorResponse(readableID(raw), rpcErr))
		case m.Method == mcp.MethodInitialize:
			// initialize MUST NOT be part of a batch [B0326 §Batching].
			b.reply(jsonrpc.NewErrorResponse(m.ID, jsonrpc.NewError(jsonrpc.CodeInvalidRequest, "Invalid Request: initialize must not be batched")))
		case m.IsRequest():
			s.handleMessage(ctx, m, b.reply)
		default:
			s.handleMessage(ctx, m, nil)
			b.reply(nil)
		}
	}
}

// batchReply collects the responses of one batch.
type batchReply struct {
	s     *server
	mu    sync.Mutex // guards left and resps
	left  int
	resps []*jsonrpc.Message
}

func (b *batchReply) reply(m *jsonrpc.Message) {
	b.mu.Lock()
	if m != nil {
		b.resps = append(b.resps, m)
	}
	b.left--
	done, resps := b.left == 0, b.resps
	b.mu.Unlock()
	if done && len(resps) > 0 {
		b.s.sendLine(jsonrpc.MustRaw(resps))
	}
}

// handleMessage routes one decoded message. reply receives the response of
// a request; it is unused for notifications and responses.
func (s *server) handleMessage(ctx context.Context, m *jsonrpc.Message, reply replyFunc) {
	switch m.Kind() {
	case jsonrpc.KindResponse:
		s.deliverResponse(m)
	case jsonrpc.KindNotification:
		s.handleNotification(m)
	case jsonrpc.KindRequest:
		if s.modern != nil {
			s.handleModernRequest(ctx, m, reply) // era_modern.go
			return
		}
		s.handleRequest(ctx, m, reply)
	}
}

func (s *server) handleNotification(m *jsonrpc.Message) {
	switch m.Method {
	case mcp.NotificationInitialized, mcp.NotificationRootsListChanged:
		// Nothing to do: requests are accepted once initialize is answered.
	case mcp.NotificationCancelled:
		var p struct {
			RequestID json.RawMessage `json:"requestId"`
		}
		if json.Unmarshal(m.Params, &p) != nil {
			return
		}
		// Unknown or finished requests are ignored [C: MAY ignore].
		s.mu.Lock()
		cancel := s.inflight[idKey(p.RequestID)]
		s.mu.Unlock()
		if cancel != nil {
			cancel()
		}
	default:
		s.log.Debug("ignoring notification", "method", m.Method)
	}
}

func (s *server) handleRequest(ctx context.Context, m *jsonrpc.Message, reply replyFunc) {
	errReply := func(code int, msg string) {
		reply(jsonrpc.NewErrorResponse(m.ID, jsonrpc.NewError(code, msg)))
	}
	meth, ok := methods[m.Method]
	if !ok {
		errReply(jsonrpc.CodeMethodNotFound, "Method not found: "+m.Method)
		return
	}
	if len(m.Params) > 0 && m.Params[0] != '{' {
		// MCP params are always objects [B: Requests].
		errReply(jsonrpc.CodeInvalidParams, "Invalid params: params must be an object")
		return
	}
	s.mu.Lock()
	initialized := s.initialized
	s.mu.Unlock()
	// Before initialize the client SHOULD send only pings [L §Initialization].
	if !initialized && m.Method != mcp.MethodInitialize && m.Method != mcp.MethodPing {
		errReply(jsonrpc.CodeInvalidRequest, "Invalid Request: the session is not initialized")
		return
	}
	s.run(ctx, m, meth, reply)
}

// run serves a request that passed the era's checks with meth: inline on
// the read loop, or on its own goroutine, cancellable by
// notifications/cancelled.
func (s *server) run(ctx context.Context, m *jsonrpc.Message, meth method, reply replyFunc) {
	errReply := func(code int, msg string) {
		reply(jsonrpc.NewErrorResponse(m.ID, jsonrpc.NewError(code, msg)))
	}
	r := &request{id: m.ID, method: m.Method, params: m.Params, progressToken: progressToken(m.Params)}
	if meth.inline {
		result, rpcErr := meth.handle(ctx, s, r)
		reply(respond(r, result, rpcErr))
		return
	}
	if s.runInstant(ctx, m, meth, r, reply) { // fastpath.go
		return
	}

	key := idKey(m.ID)
	rctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	_, dup := s.inflight[key]
	busy := len(s.inflight) >= s.opts.MaxInFlight
	if !dup && !busy {
		s.inflight[key] = cancel
	}
	s.mu.Unlock()
	switch {
	case dup:
		cancel()
		errReply(jsonrpc.CodeInvalidRequest, "Invalid Request: request id already in use")
		return
	case busy:
		cancel()
		errReply(jsonrpc.CodeInternalError, "Internal error: too many requests in flight")
		return
	}
	s.handlers.Add(1)
	s.goHandler(func() {
		defer s.handlers.Done()
		defer cancel()
		result, rpcErr := meth.handle(rctx, s, r)
		s.mu.Lock()
		delete(s.inflight, key)
		s.mu.Unlock()
		// A cancelled request gets no response [C: the receiver SHOULD NOT
		// respond]; on shutdown nobody is left to read one.
		if rctx.Err() != nil {
			reply(nil)
			return
		}
		reply(respond(r, result, rpcErr))
	})
}

// respond builds the response message for a handler's outcome.
func respond(r *request, result any, rpcErr *jsonrpc.Error) *jsonrpc.Message {
	if rpcErr != nil {
		return jsonrpc.NewErrorResponse(r.id, rpcErr)
	}
	raw, ok := result.(json.RawMessage)
	if !ok {
		raw = encodeResult(result) // fastpath.go
	}
	return jsonrpc.NewResponse(r.id, raw)
}

func handlePing(context.Context, *server, *request) (any, *jsonrpc.Error) {
	// Answer promptly with an empty result [P].
	return json.RawMessage(`{}`), nil
}

// idKey canonicalizes a JSON-RPC id so that equal ids written differently
// ("a" and "\u0061") match and a string id never matches a number.
func idKey(id json.RawMessage) string {
	id = bytes.TrimSpace(id)
	if len(id) == 0 {
		return ""
	}
	if k, ok := fastIDKey(id); ok { // fastpath.go
		return k
	}
	if id[0] == '"' {
		var s string
		if json.Unmarshal(id, &s) == nil {
			return "s:" + s
		}
		return "?" + string(id)
	}
	var n json.Number
	if json.Unmarshal(id, &n) == nil {
		if i, err := n.Int64(); err == nil {
			return "n:" + strconv.FormatInt(i, 10)
		}
	}
	return "?" + string(id)
}

// readableID returns the id of a message that failed validation when it is
// a valid id, else nil.
func readableID(data []byte) json.RawMessage {
	var probe struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(data, &probe) != nil || !jsonrpc.ValidID(probe.ID) {
		return nil
	}
	return probe.ID
}

// progressToken returns params._meta.progressToken when it is a string or
// an integer [PR], else nil.
func progressToken(params json.RawMessage) json.RawMessage {
	if len(params) == 0 {
		return nil
	}
	if tok, ok := fastProgressToken(params); ok { // fastpath.go
		return tok
	}
	var p struct {
		Meta struct {
			ProgressToken json.RawMessage `json:"progressToken"`
		} `json:"_meta"`
	}
	if json.Unmarshal(params, &p) != nil || !jsonrpc.ValidID(p.Meta.ProgressToken) {
		return nil
	}
	return p.Meta.ProgressToken
}

// invalidParams returns a -32602 error with the given detail.
func invalidParams(detail string) *jsonrpc.Error {
	return jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params: "+detail)
}

// decodeParams unmarshals params into v, mapping failure to -32602.
// Absent params decode as an empty object.
func decodeParams(params json.RawMessage, v any) *jsonrpc.Error {
	if len(params) == 0 {
		return nil
	}
	if err := json.Unmarshal(params, v); err != nil {
		return invalidParams("malformed params")
	}
	return nil
}
