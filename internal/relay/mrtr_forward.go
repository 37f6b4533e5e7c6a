package relay

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// The multi-round-trip translation for a 2026-07-28 client in front of a
// session-era upstream L (docs/protocol-eras.md §4.3 A). [MRTR] is
// docs/specification/2026-07-28/basic/patterns/mrtr.mdx, [B26]
// …/basic/index.mdx.

// parkable reports whether a call takes the multi-round-trip path: a
// stateless client's tools/call, prompts/get or resources/read
// [MRTR §Supported Requests] to an upstream that speaks a session-era
// revision (a 2026-07-28 upstream sends its own InputRequiredResults,
// which pass through). A per-user upstream's connection is known only once
// acquired: the call then goes through callUpstream, which passes a modern
// one's answers through.
func (r *Relay) parkable(c *Client, method, name string) bool {
	if !c.Stateless {
		return false
	}
	switch method {
	case mcp.MethodToolsCall, mcp.MethodPromptsGet, mcp.MethodResourcesRead:
	default:
		return false
	}
	u, ok := r.conn(name)
	if !ok {
		return false
	}
	return u.Conn == nil || !isModern(u.Conn)
}

// retryParams are the MRTR members of a request's params.
type retryParams struct {
	state        json.RawMessage // requestState, raw; nil when absent
	responses    json.RawMessage // inputResponses, raw; nil when absent
	hasResponses bool
}

func readRetry(params json.RawMessage) (rp retryParams) {
	if !bytes.Contains(params, []byte(`"requestState"`)) && !bytes.Contains(params, []byte(`"inputResponses"`)) {
		return rp // the common first request costs one scan
	}
	jsonrpc.Members(params, func(m jsonrpc.Member) bool {
		switch string(m.Key) {
		case "requestState":
			rp.state = m.Value
		case "inputResponses":
			rp.responses, rp.hasResponses = m.Value, true
		}
		return true
	})
	return rp
}

func invalidParams(msg string) *jsonrpc.Error {
	return jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params: "+msg)
}

// forwardMRTR forwards a parkable call: a retry carrying a requestState
// resumes its parked call, anything else starts one. Either way it
// returns the upstream's result, an InputRequiredResult, or an error.
func (r *Relay) forwardMRTR(ctx context.Context, c *Client, msg *jsonrpc.Message, out Stream, name string, up upstreamParams) (json.RawMessage, *jsonrpc.Error) {
	if r.mrtrInit() != nil {
		return nil, jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error")
	}
	rp := readRetry(msg.Params)
	var avail map[string]json.RawMessage
	if rp.hasResponses {
		// [MRTR §Error Handling]: a malformed InputResponses is a protocol
		// error; unknown keys are ignored later.
		if json.Unmarshal(rp.responses, &avail) != nil || avail == nil {
			return nil, invalidParams("inputResponses must be an object")
		}
	}
	if rp.state != nil {
		var state string
		if json.Unmarshal(rp.state, &state) != nil {
			return nil, invalidParams("requestState must be a string")
		}
		p, rpcErr := r.resume(c, msg, state, out, up.routing.token)
		if rpcErr != nil {
			return nil, rpcErr
		}
		if p != nil {
			return c.urlElicitationResult(p.wait(ctx, c, msg, avail)) // mrtr_url.go
		}
		// The parked call is unknown here (finished, taken by a
		// concurrent retry, or held by another gateway process): a fresh
		// call, whose requests the client's inputResponses may answer.
	}
	p, rpcErr := r.startParkable(ctx, c, msg, name, up, rp, out)
	if rpcErr != nil {
		return nil, rpcErr
	}
	return c.urlElicitationResult(p.wait(ctx, c, msg, avail))
}

// resume opens a requestState and attaches the request to the parked call
// it names. A token that fails its checks is -32602
// [MRTR §Server Requirements] 4–5 ("sep-2322-reject-tampered-state"); a
// valid token whose call is not parked here returns nil, nil.
func (r *Relay) resume(c *Client, msg *jsonrpc.Message, state string, out Stream, progressToken json.RawMessage) (*parkedCall, *jsonrpc.Error) {
	claims, err := r.mrtr.sealer.open(state)
	switch {
	case err != nil:
		return nil, invalidParams("requestState is not valid")
	case !time.Now().Before(claims.expires):
		return nil, invalidParams("requestState has expired")
	case claims.principal != principalDigest(c.Principal.Key()):
		return nil, invalidParams("requestState was issued to another principal")
	case claims.request != requestDigest(msg.Method, msg.Params):
		return nil, invalidParams("requestState was issued for another request")
	case claims.replica != r.mrtr.replica:
		return nil, nil
	}
	p := r.mrtr.lookup(claims.parked)
	if p == nil || !p.attach(c, out, progressToken) {
		return nil, nil
	}
	return p, nil
}

// attach makes the request holding out the call's current round; its
// progress token (raw, may be nil) is the one progress goes out with now.
func (p *parkedCall) attach(c *Client, out Stream, progressToken json.RawMessage) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != parked || p.owner != c.Principal.Key() {
		return false
	}
	p.state, p.attachedTo = attached, out
	p.roundToken = cloneToken(progressToken)
	p.idle.Store(false)
	p.parkTimer.Stop()
	p.resumedAt = time.Now()
	p.callTimer.Reset(max(p.budget, time.Millisecond))
	return true
}

// newCall describes a forwarded call (forward and startParkable): the
// client's progress token, if any, replaced by a gateway token, and the
// params as the upstream gets them.
func (r *Relay) newCall(c *Client, msg *jsonrpc.Message, name string, up *upstreamParams, out Stream) (*call, json.RawMessage, *jsonrpc.Error) {
	cl := &call{}
	params, rpcErr := r.initCall(cl, c, msg, name, up, out)
	return cl, params, rpcErr
}

func (r *Relay) initCall(cl *call, c *Client, msg *jsonrpc.Message, name string, up *upstreamParams, out Stream) (json.RawMessage, *jsonrpc.Error) {
	cl.client, cl.clientID, cl.upstream, cl.out = c, msg.ID, name, out
	if tok := up.routing.token; len(tok) > 0 && string(tok) != "null" {
		cl.clientToken = tok
		cl.gatewayToken = "mcpgate-" + strconv.FormatInt(r.nextID.Add(1), 10)
	}
	return up.apply(msg.Params, cl.gatewayToken)
}

// cloneToken copies a raw progress token; an absent or null one is nil.
func cloneToken(tok json.RawMessage) json.RawMessage {
	if len(tok) == 0 || string(tok) == "null" {
		return nil
	}
	return bytes.Clone(tok)
}

// noCancel is the cancel of a parked call's relay call: a stateless client
// cannot send notifications/cancelled (it closes the stream instead).
func noCancel() {}

// noCancelCause is noCancel for a call's cancel.
func noCancelCause(error) {}

// startParkable forwards a call to L on a goroutine owned by the relay, so
// that it can outlive this HTTP request. Its context keeps the request's
// values (credentials) but not its cancellation, which wait turns into
// cancellation while the request is attached.
func (r *Relay) startParkable(ctx context.Context, c *Client, msg *jsonrpc.Message, name string, up upstreamParams, rp retryParams, out Stream) (*parkedCall, *jsonrpc.Error) {
	u, _ := r.conn(name)
	p := &parkedCall{r: r, owner: c.Principal.Key(), budget: u.CallTimeout}
	cl := &p.call
	params, rpcErr := r.initCall(cl, c, msg, name, &up, p)
	if rpcErr != nil {
		return nil, rpcErr
	}
	// The tokens outlive this request, whose body is reused once it ends.
	cl.clientToken = cloneToken(cl.clientToken)
	p.roundToken = cl.clientToken
	if rp.state != nil || rp.hasResponses {
		// The gateway's own MRTR members mean nothing to L.
		params = withoutMembers(params, "requestState", "inputResponses")
	} else {
		// params may point into the request body, which is reused once
		// this request ends; the call may still be writing it then.
		params = bytes.Clone(params)
	}
	pctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	p.ctx, p.endCall, p.attachedTo, p.resumedAt = pctx, cancel, out, time.Now()
	p.done, p.wake = make(chan struct{}), make(chan struct{}, 1)
	cl.cancel = noCancelCause
	if !r.track(cl) {
		cancel(nil)
		return nil, jsonrpc.NewError(jsonrpc.CodeInvalidRequest, "Invalid Request: request id already in flight")
	}
	conn, release := u.Conn, noCancel
	if u.PerUser != nil {
		var err error
		if conn, release, err = u.PerUser.Acquire(ctx, c.Principal.Key()); err != nil {
			r.untrack(cl)
			cancel(nil)
			return nil, r.acquireError(name, err)
		}
	}
	p.stopOnClose = context.AfterFunc(r.ctx, p.relayClosing)
	p.callTimer = time.AfterFunc(u.CallTimeout, p.timedOut)
	r.wg.Add(1)
	// A reused goroutine: a fresh one grows its stack to the depth of an
	// upstream call, copy by copy, on every stateless request.
	r.pool.Go(func() { p.run(conn, msg.Method, params, release) })
	return p, nil
}

func (p *parkedCall) relayClosing() { p.endCall(errRelayClosing) }
func (p *parkedCall) timedOut()     { p.endCall(errCallTimedOut) }

// run makes the upstream call, on a goroutine of the relay's (Relay.wg).
func (p *parkedCall) run(conn upstream.Conn, method string, params json.RawMessage, release func()) {
	defer p.r.wg.Done()
	resp, err := p.r.callUpstream(p.ctx, &p.call, conn, method, params) // modern.go
	p.stopOnClose()
	p.r.untrack(&p.call)
	release()
	p.finish(resp, err)
	if errors.Is(context.Cause(p.ctx), errRelayClosing) {
		p.end(errRelayClosing, false) // nobody will retry: drop it now
	}
	p.endCall(nil)
}

// wait serves one round on the request's goroutine: answers the upstream's
// requests that this request's inputResponses hold, and returns the
// upstream's result, or parks the call when the upstream waits for input
// nobody gave yet. The client closing the request cancels the call
// upstream [SH26 §Cancellation] (docs/protocol-eras.md §4.3 A step 5).
func (p *parkedCall) wait(ctx context.Context, c *Client, msg *jsonrpc.Message, avail map[string]json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
	var gather *time.Timer
	var gatherC <-chan time.Time
	defer func() {
		if gather != nil {
			gather.Stop()
		}
	}()
	for {
		select {
		case <-p.done:
			return p.result()
		default:
		}
		outstanding, rpcErr := p.absorb(c.Capabilities.Raw, avail)
		if rpcErr != nil {
			return nil, rpcErr
		}
		if outstanding && gatherC == nil {
			gather = time.NewTimer(inputGatherWindow)
			gatherC = gather.C
		}
		select {
		case <-p.done:
			return p.result()
		case <-p.wake:
		case <-gatherC:
			return p.park(msg)
		case <-ctx.Done():
			p.end(errClientGone, false)
			return nil, errNoResponse
		}
	}
}

// absorb answers the pending inputs this round's inputResponses hold and
// reports whether any are left. An input the client's capabilities do not
// cover ends the call with -32021 [B26 §_meta; MRTR §Server Requirements]
// 7; a malformed answer ends it with -32602 [MRTR §Error Handling].
func (p *parkedCall) absorb(caps json.RawMessage, avail map[string]json.RawMessage) (bool, *jsonrpc.Error) {
	p.mu.Lock()
	for _, in := range p.inputs {
		if need := mcp.RequiredCapability(in.method); need != "" && !declared(caps, need) {
			p.mu.Unlock()
			p.end(errInputRefused, true)
			e := jsonrpc.NewError(mcp.CodeMissingClientCapability, "Missing required client capability: "+need)
			e.Data = jsonrpc.MustRaw(map[string]any{"requiredCapabilities": map[string]struct{}{need: {}}})
			return false, e
		}
	}
	var answer []*pendingInput
	var results []json.RawMessage
	kept := p.inputs[:0:0]
	for _, in := range p.inputs {
		raw, ok := avail[in.key]
		if !ok {
			kept = append(kept, in)
			continue
		}
		if !validInputResponse(in.method, raw) {
			p.mu.Unlock()
			p.end(errInputRejected, true)
			return false, invalidParams(fmt.Sprintf("inputResponses[%q] is not a valid %s result", in.key, in.method))
		}
		answer = append(answer, in)
		results = append(results, raw)
	}
	if len(answer) > 0 {
		p.inputs = kept
		for _, in := range answer {
			delete(avail, in.key) // each answer is used once
		}
	}
	left := len(p.inputs) > 0
	p.mu.Unlock()
	for i, in := range answer {
		p.r.answerInput(in, results[i])
	}
	return left, nil
}

// park ends the round with an InputRequiredResult holding every input
// pending now and a fresh requestState
// (docs/protocol-eras.md §4.3 A steps 1, 4); the upstream call goes on.
func (p *parkedCall) park(msg *jsonrpc.Message) (json.RawMessage, *jsonrpc.Error) {
	select {
	case <-p.done: // the upstream answered meanwhile: no round needed
		return p.result()
	default:
	}
	r := p.r
	if !p.registered {
		_, _ = rand.Read(p.id[:]) // anonymous principals share one quota: owner ""
		if e := r.mrtr.register(p, r.opts.MRTR.MaxParked, r.opts.MRTR.MaxParkedPerPrincipal); e != nil {
			r.mrtr.limitRefused.Add(1)
			r.log.Warn("call refused: too many parked calls", "upstream", p.upstream, "method", msg.Method)
			p.end(errTooManyParked, true)
			return nil, e
		}
		p.registered = true
		r.mrtr.parkedTotal.Add(1)
		p.request = requestDigest(msg.Method, msg.Params)
	}
	timeout := r.parkTimeout()
	p.mu.Lock()
	reqs := make(map[string]inputRequest, len(p.inputs))
	for _, in := range p.inputs {
		reqs[in.key] = inputRequest{Method: in.method, Params: withoutInputKey(in.params)}
	}
	p.state, p.attachedTo = parked, nil
	p.idle.Store(len(p.inputs) > 0)
	if p.callTimer.Stop() {
		p.budget -= time.Since(p.resumedAt)
	}
	if p.parkTimer == nil {
		p.parkTimer = time.AfterFunc(timeout, p.parkExpired)
	} else {
		p.parkTimer.Reset(timeout)
	}
	p.mu.Unlock()
	token := r.mrtr.sealer.seal(&stateClaims{replica: r.mrtr.replica, parked: p.id,
		principal: principalDigest(p.owner), request: p.request, expires: time.Now().Add(timeout)})
	// [MRTR §InputRequiredResult]; resultType per [B26 §ResultType].
	return jsonrpc.MustRaw(inputRequiredResult{ResultType: "input_required", InputRequests: reqs, RequestState: token}), nil
}

type inputRequiredResult struct {
	ResultType    string                  `json:"resultType"`
	InputRequests map[string]inputRequest `json:"inputRequests"`
	RequestState  string                  `json:"requestState"`
}

type inputRequest struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params,omitempty"`
}

// result delivers the upstream call's outcome to the attached request.
func (p *parkedCall) result() (json.RawMessage, *jsonrpc.Error) {
	p.mu.Lock()
	p.state, p.attachedTo = finished, nil
	if p.parkTimer != nil {
		p.parkTimer.Stop()
	}
	p.mu.Unlock()
	p.r.mrtr.unregister(p)
	r, name := p.r, p.upstream
	if p.err != nil {
		switch cause := context.Cause(p.ctx); {
		case errors.Is(cause, errCallTimedOut):
			r.log.Warn("upstream call timed out", "upstream", name, "budget", p.budget)
			if r.opts.OnCallTimeout != nil {
				r.opts.OnCallTimeout(name)
			}
			return nil, jsonrpc.NewError(jsonrpc.CodeUpstreamUnavailable, fmt.Sprintf("Upstream %q did not answer in time", name))
		case errors.Is(p.err, upstream.ErrUnavailable), errors.Is(cause, errRelayClosing):
			return nil, jsonrpc.NewError(jsonrpc.CodeUpstreamUnavailable, fmt.Sprintf("Upstream %q is unavailable", name))
		default:
			r.log.Warn("upstream call failed", "upstream", name, "err", p.err)
			return nil, jsonrpc.NewError(jsonrpc.CodeUpstreamUnavailable, fmt.Sprintf("Upstream %q failed", name))
		}
	}
	if p.resp.Error != nil {
		return nil, p.resp.Error
	}
	return p.resp.Result, nil
}
