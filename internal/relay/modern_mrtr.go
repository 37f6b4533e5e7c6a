package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// Session client, modern upstream: the gateway is the upstream's MRTR
// client (docs/protocol-eras.md §4.3 B; the go-sdk's
// clientMultiRoundTripMiddleware is the model). [MRTR] is
// docs/specification/2026-07-28/basic/patterns/mrtr.mdx.

// MRTR limits of the gateway as a client.
const (
	// maxInputRounds bounds the rounds of one call.
	maxInputRounds = 10
	// maxLoadShedRetries bounds the retries of an InputRequiredResult that
	// asks for nothing and carries no requestState (load shedding).
	maxLoadShedRetries = 3
	// loadShedBackoff is the first wait before such a retry; doubled each time.
	loadShedBackoff = 100 * time.Millisecond
)

// inputRequired is an InputRequiredResult [MRTR §InputRequiredResult].
type inputRequired struct {
	ResultType    string                     `json:"resultType"`
	InputRequests map[string]json.RawMessage `json:"inputRequests"`
	RequestState  *string                    `json:"requestState"`
}

// readInputRequired reports whether result is an InputRequiredResult, and
// decodes it if so. A complete result costs one byte search.
func readInputRequired(result json.RawMessage) (*inputRequired, bool) {
	if !bytes.Contains(result, []byte(`"input_required"`)) {
		return nil, false
	}
	var ir inputRequired
	if json.Unmarshal(result, &ir) != nil || ir.ResultType != "input_required" {
		return nil, false
	}
	return &ir, true
}

// driveInputRequired answers a modern upstream's InputRequiredResults for
// a session client until the upstream completes [MRTR §Client
// Requirements]: each input request becomes a server→client request on the
// call's stream, all at once; then the upstream is called again with the
// original params plus inputResponses and the requestState it gave.
func (r *Relay) driveInputRequired(ctx context.Context, cl *call, conn upstream.Conn, method string, params json.RawMessage, resp *jsonrpc.Message) (*jsonrpc.Message, error) {
	shed := 0
	for round := 1; ; round++ {
		ir, ok := readInputRequired(resp.Result)
		if !ok {
			return resp, nil
		}
		if round > maxInputRounds {
			return jsonrpc.NewErrorResponse(resp.ID, jsonrpc.NewError(jsonrpc.CodeInternalError,
				"Upstream asked for input more than "+strconv.Itoa(maxInputRounds)+" times")), nil
		}
		var responses map[string]json.RawMessage
		switch {
		case len(ir.InputRequests) > 0:
			var rpcErr *jsonrpc.Error
			if responses, rpcErr = r.askClient(ctx, cl, ir.InputRequests); rpcErr != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return jsonrpc.NewErrorResponse(resp.ID, rpcErr), nil
			}
		case ir.RequestState == nil:
			// Nothing asked and nothing to carry: the upstream sheds load;
			// retry after a backoff, a few times.
			if shed++; shed > maxLoadShedRetries {
				return jsonrpc.NewErrorResponse(resp.ID, jsonrpc.NewError(jsonrpc.CodeInternalError,
					"Upstream is shedding load; try again later")), nil
			}
			t := time.NewTimer(loadShedBackoff << (shed - 1))
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			}
		}
		next, err := retryWith(params, responses, ir.RequestState)
		if err != nil {
			return jsonrpc.NewErrorResponse(resp.ID, jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error")), nil
		}
		if resp, err = conn.Call(ctx, method, next); err != nil || resp.Error != nil {
			return resp, err
		}
	}
}

// retryWith is params with inputResponses and requestState set [MRTR
// §Client Requirements 2–3]; absent ones are removed.
func retryWith(params json.RawMessage, responses map[string]json.RawMessage, state *string) (json.RawMessage, error) {
	obj := map[string]json.RawMessage{}
	if len(params) > 0 {
		if err := json.Unmarshal(params, &obj); err != nil {
			return nil, err
		}
	}
	delete(obj, "inputResponses")
	delete(obj, "requestState")
	if len(responses) > 0 {
		obj["inputResponses"] = jsonrpc.MustRaw(responses)
	}
	if state != nil {
		obj["requestState"] = jsonrpc.MustRaw(*state)
	}
	return json.Marshal(obj)
}

// clientAnswer is one server→client request's outcome.
type clientAnswer struct {
	key  string
	resp *jsonrpc.Message
	err  error
}

// askClient sends every input request to the session client as a
// server→client request on the call's stream, under gateway ids, and waits
// for all the answers. An input request for a capability the session did
// not declare ends the call with -32021 (the upstream had the session's
// capabilities in _meta and should not have asked).
func (r *Relay) askClient(ctx context.Context, cl *call, reqs map[string]json.RawMessage) (map[string]json.RawMessage, *jsonrpc.Error) {
	c := cl.client
	type inputReq struct {
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	}
	keys := make([]string, 0, len(reqs))
	parsed := make(map[string]inputReq, len(reqs))
	for k, raw := range reqs {
		var in inputReq
		if json.Unmarshal(raw, &in) != nil || in.Method == "" {
			return nil, jsonrpc.NewError(jsonrpc.CodeInternalError, "Upstream sent a malformed input request")
		}
		if cap := mcp.RequiredCapability(in.Method); cap != "" && !clientSupports(c, in.Method) {
			return nil, missingCapability(cap, struct{}{})
		}
		if in.Method == mcp.MethodElicitationCreate {
			var rpcErr *jsonrpc.Error
			if in.Params, rpcErr = r.urlElicitation(c, in.Params); rpcErr != nil {
				return nil, rpcErr
			}
		}
		keys = append(keys, k)
		parsed[k] = in
	}
	sort.Strings(keys) // deterministic order on the stream

	answers := make(chan clientAnswer, len(keys))
	sent := make([]*serverRequest, 0, len(keys))
	defer func() {
		// Requests still pending when the call ends are withdrawn.
		for _, sr := range sent {
			r.mu.Lock()
			_, pending := r.serverReqs[sr.clientID]
			delete(r.serverReqs, sr.clientID)
			r.mu.Unlock()
			if pending {
				sr.stop()
				_ = cl.out.Send(jsonrpc.NewNotification(mcp.NotificationCancelled,
					jsonrpc.MustRaw(map[string]any{"requestId": json.RawMessage(sr.clientID), "reason": "request cancelled"})))
			}
		}
	}()
	for _, k := range keys {
		in := parsed[k]
		id := strconv.FormatInt(r.nextID.Add(1), 10)
		sr := &serverRequest{upstream: cl.upstream, sessionID: c.SessionID, clientID: id, out: cl.out,
			reply: func(resp *jsonrpc.Message, err error) { answers <- clientAnswer{key: k, resp: resp, err: err} }}
		r.mu.Lock()
		r.serverReqs[id] = sr
		r.mu.Unlock()
		sr.timer = time.AfterFunc(r.opts.ServerRequestTimeout, func() { r.serverRequestTimedOut(id) })
		sent = append(sent, sr)
		if err := cl.out.Send(&jsonrpc.Message{JSONRPC: jsonrpc.Version, ID: json.RawMessage(id), Method: in.Method, Params: in.Params}); err != nil {
			return nil, jsonrpc.NewError(jsonrpc.CodeInternalError, "mcpgate: the client cannot be asked for input")
		}
	}
	out := make(map[string]json.RawMessage, len(keys))
	for range keys {
		select {
		case a := <-answers:
			switch {
			case a.err != nil || a.resp == nil:
				return nil, jsonrpc.NewError(jsonrpc.CodeInternalError, "mcpgate: the client did not answer")
			case a.resp.Error != nil:
				return nil, a.resp.Error
			}
			out[a.key] = a.resp.Result
		case <-ctx.Done():
			return nil, jsonrpc.NewError(jsonrpc.CodeRequestCancelled, "Request cancelled")
		}
	}
	return out, nil
}

func missingCapability(name string, value any) *jsonrpc.Error {
	return &jsonrpc.Error{Code: mcp.CodeMissingClientCapability, Message: "Missing required client capability: " + name,
		Data: jsonrpc.MustRaw(map[string]any{"requiredCapabilities": map[string]any{name: value}})}
}

// urlElicitation adapts a modern upstream's URL-mode elicitation for a
// session client (docs/protocol-eras.md §4.2 "URL elicitation"): the
// client must have declared elicitation.url (2025-11-25), and gets the
// elicitationId its revision requires and 2026-07-28 dropped ([CL26]
// Minor 11), minted by the gateway. Form-mode requests pass unchanged.
func (r *Relay) urlElicitation(c *Client, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
	if !bytes.Contains(params, []byte(`"url"`)) {
		return params, nil
	}
	var p map[string]json.RawMessage
	if json.Unmarshal(params, &p) != nil || string(p["mode"]) != `"url"` {
		return params, nil
	}
	var caps struct {
		Elicitation struct {
			URL json.RawMessage `json:"url"`
		} `json:"elicitation"`
	}
	_ = json.Unmarshal(c.Capabilities.Raw, &caps)
	if !present(caps.Elicitation.URL) || c.ProtocolVersion < mcp.Version20251125 {
		return nil, missingCapability("elicitation", map[string]any{"url": struct{}{}})
	}
	if _, ok := p["elicitationId"]; !ok {
		p["elicitationId"] = jsonrpc.MustRaw("mcpgate-elicitation-" + strconv.FormatInt(r.nextID.Add(1), 10))
	}
	return jsonrpc.MustRaw(p), nil
}
