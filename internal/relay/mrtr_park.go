package relay

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// Parked calls of the multi-round-trip translation (docs/protocol-eras.md
// §4.3 A): a 2026-07-28 client's call to a session-era upstream L that
// stopped at a server→client request. The upstream call keeps running on
// a relay-owned goroutine between the client's HTTP requests; each retry
// carrying the requestState token attaches to it again.
//
//	 round 1 (HTTP request)          between rounds            retry (HTTP request)
//	 forwardMRTR ── start ─▶ goroutine: conn.Call(L) ─────────────────────────────▶ result
//	   wait ◀── L's sampling/elicitation/roots (Send: queued as inputs)
//	   park: InputRequiredResult + token     park timer runs      resume: answer inputs
//	                                          inputs may queue      under L's ids; wait
//
// Everything a parked call holds is replica-local: the token names this
// process, and a retry that reaches another replica (or this one after a
// restart) starts a fresh call.

// MRTROptions configure the translation of server→client requests into
// InputRequiredResults for 2026-07-28 clients. The zero value is usable.
type MRTROptions struct {
	// StateKey is the 32-byte AES-256 key that seals requestState tokens.
	// Nil means a random key made at start: tokens then open only in this
	// process, which is also the only one holding the parked calls they
	// name, so a single replica loses nothing; several replicas need one
	// key between them so that a token is at least recognised (and a
	// retry on another replica starts a fresh call, see
	// docs/protocol-eras.md §4.7).
	StateKey []byte
	// ParkTimeout is how long a parked call waits for the client's retry
	// before the upstream call is cancelled; it is also the token's
	// lifetime. Zero means 10 minutes (a person may be answering an
	// elicitation).
	ParkTimeout time.Duration
	// MaxParked bounds the calls parked at once in this process; one more
	// is refused with an error and its upstream call cancelled. Zero means
	// 1000.
	MaxParked int
	// MaxParkedPerPrincipal bounds the parked calls of one principal. Zero
	// means 20.
	MaxParkedPerPrincipal int
}

// inputGatherWindow is how long the first server→client request of a round
// waits for others before the round is answered: an upstream that asks for
// several inputs at once (sampling and elicitation concurrently) writes
// them back to back, and they belong in one InputRequiredResult
// [MRTR §Server Requirements] 2. It costs this much latency per round only
// when the upstream asks for input.
const inputGatherWindow = 20 * time.Millisecond

// Errors a parked call's context ends with.
var (
	errParkTimedOut  = errors.New("no retry within the park timeout")
	errRelayClosing  = errors.New("the relay is closing")
	errClientGone    = errors.New("the client closed the request")
	errInputRefused  = errors.New("the client cannot answer the upstream's request")
	errInputRejected = errors.New("the client's input responses were malformed")
)

// Errors of the park limits: HTTP 429 for stateless clients (package
// streamable recognises them with IsParkLimit).
var (
	errTooManyParked = &jsonrpc.Error{Code: jsonrpc.CodeInternalError,
		Message: "Too many requests are waiting for client input on this gateway; try again later"}
	errTooManyParkedPrincipal = &jsonrpc.Error{Code: jsonrpc.CodeInternalError,
		Message: "Too many of your requests are waiting for client input; answer or abandon one first"}
)

// IsParkLimit reports whether e is the relay's answer to a call refused
// because too many calls are parked (MRTROptions.MaxParked and
// MaxParkedPerPrincipal).
func IsParkLimit(e *jsonrpc.Error) bool {
	return e == errTooManyParked || e == errTooManyParkedPrincipal
}

// mrtrRegistry holds the parked calls of a Relay. Its zero value is ready;
// the key is made on first use.
type mrtrRegistry struct {
	once    sync.Once
	sealer  *stateSealer
	initErr error
	replica [8]byte

	mu sync.Mutex // guards the fields below
	// calls are the calls that parked at least once and are not finished,
	// by id.
	calls map[[16]byte]*parkedCall
	// perPrincipal counts calls by principal key.
	perPrincipal map[string]int

	// Counters for MRTRStats (mrtr_stats.go).
	parkedTotal, limitRefused, parkTimeouts atomic.Uint64
}

func (r *Relay) mrtrInit() error {
	m := &r.mrtr
	m.once.Do(func() {
		_, _ = rand.Read(m.replica[:])
		key := r.opts.MRTR.StateKey
		if key == nil {
			key = make([]byte, 32)
			_, _ = rand.Read(key)
		}
		m.sealer, m.initErr = newStateSealer(key)
		if m.initErr != nil {
			r.log.Error("multi-round-trip requests disabled", "err", m.initErr)
		}
		m.calls = map[[16]byte]*parkedCall{}
		m.perPrincipal = map[string]int{}
	})
	return m.initErr
}

func (r *Relay) parkTimeout() time.Duration {
	if d := r.opts.MRTR.ParkTimeout; d > 0 {
		return d
	}
	return 10 * time.Minute
}

// register admits p to the registry, within the limits.
func (m *mrtrRegistry) register(p *parkedCall, maxAll, maxOne int) *jsonrpc.Error {
	if maxAll <= 0 {
		maxAll = 1000
	}
	if maxOne <= 0 {
		maxOne = 20
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case len(m.calls) >= maxAll:
		return errTooManyParked
	case m.perPrincipal[p.owner] >= maxOne:
		return errTooManyParkedPrincipal
	}
	m.calls[p.id] = p
	m.perPrincipal[p.owner]++
	return nil
}

func (m *mrtrRegistry) unregister(p *parkedCall) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.calls[p.id] != p {
		return
	}
	delete(m.calls, p.id)
	if m.perPrincipal[p.owner]--; m.perPrincipal[p.owner] <= 0 {
		delete(m.perPrincipal, p.owner)
	}
}

func (m *mrtrRegistry) lookup(id [16]byte) *parkedCall {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[id]
}

// Parked reports how many calls are parked or resumed and not finished
// (for tests and stats).
func (r *Relay) Parked() int {
	r.mrtr.mu.Lock()
	defer r.mrtr.mu.Unlock()
	return len(r.mrtr.calls)
}

// parkState is where a parkedCall is in its life.
type parkState int

const (
	attached parkState = iota // an HTTP request is waiting on it
	parked                    // between rounds
	finished                  // answered, abandoned, timed out or refused
)

// pendingInput is a server→client request of the upstream not answered yet.
type pendingInput struct {
	key       string
	method    string
	params    json.RawMessage
	gatewayID string // its id in Relay.serverReqs
}

// parkedCall is one stateless client call to a session-era upstream, from
// its first request until its result is delivered (or it is dropped). It
// is the call's relay.Stream: the upstream's requests for it are queued as
// inputs, its notifications go to the HTTP request attached now.
type parkedCall struct {
	// call is the relay's record of the upstream call (Relay.calls);
	// its out is the parkedCall itself.
	call
	r     *Relay
	id    [16]byte
	owner string // principal key
	// endCall ends the upstream call with a cause (errCallTimedOut …);
	// stopOnClose stops the cancellation at Relay.Close.
	endCall     context.CancelCauseFunc
	stopOnClose func() bool
	ctx         context.Context
	done        chan struct{} // closed when the upstream call returned
	resp        *jsonrpc.Message
	err         error
	wake        chan struct{} // capacity 1: an input arrived or the call ended
	// idle is set while the call is parked with requests of the upstream
	// unanswered, and once it is ended (see call.parkedIdle).
	idle atomic.Bool

	mu sync.Mutex // guards the fields below
	// state, attachedTo: the stream of the HTTP request attached now, nil
	// while parked.
	state      parkState
	attachedTo Stream
	// roundToken is the progress token of the request attached now (or
	// last attached), cloned; nil when it asked for no progress.
	roundToken json.RawMessage
	// inputs are the upstream's requests not answered yet, in arrival order.
	inputs []*pendingInput
	// keyUses counts the keys handed out, so that each is unique in the
	// call [MRTR §Server Requirements] 2.
	keyUses map[string]int
	// request binds tokens to the originating request (set at first park).
	request [32]byte
	// budget is the call timeout left; callTimer enforces it while a
	// request is attached, and is stopped while the call is parked.
	budget     time.Duration
	resumedAt  time.Time
	callTimer  *time.Timer
	parkTimer  *time.Timer
	registered bool
}

// Send implements Stream for the upstream call: requests become inputs,
// notifications go to the attached request (dropped between rounds,
// docs/protocol-eras.md §4.3 A step 6).
func (p *parkedCall) Send(m *jsonrpc.Message) error {
	switch m.Kind() {
	case jsonrpc.KindRequest:
		in := &pendingInput{method: m.Method, params: append(json.RawMessage(nil), m.Params...), gatewayID: string(m.ID)}
		p.mu.Lock()
		if p.state == finished {
			p.mu.Unlock()
			return errStreamClosed
		}
		in.key = p.keyForLocked(m.Method, m.Params)
		p.inputs = append(p.inputs, in)
		p.mu.Unlock()
		p.signal()
		return nil
	case jsonrpc.KindResponse:
		return errStreamClosed
	}
	if m.Method == mcp.NotificationCancelled {
		p.withdraw(m.Params) // the upstream gave up on one of its requests
		return nil
	}
	p.mu.Lock()
	out, tok := p.attachedTo, p.roundToken
	p.mu.Unlock()
	if out == nil {
		return nil
	}
	if m.Method == mcp.NotificationProgress {
		if m = p.retoken(m, tok); m == nil {
			return nil
		}
	}
	return out.Send(m)
}

// retoken gives a progress notification the progress token of the request
// attached now: a retry is a new request with its own token, and progress
// may reference only the token of an active request [PR §Behavior
// Requirements] 1 (docs/specification/2025-11-25/basic/utilities/progress.mdx;
// docs/protocol-eras.md §4.3 A step 4). The upstream knows only the first
// round's (gateway) token, which upstreamProgress has already turned into
// the first request's; a retry without a token gets no progress.
func (p *parkedCall) retoken(m *jsonrpc.Message, tok json.RawMessage) *jsonrpc.Message {
	if tok == nil {
		return nil
	}
	if bytes.Equal(tok, p.clientToken) {
		return m // round 1, or a retry reusing the token
	}
	var params map[string]json.RawMessage
	if json.Unmarshal(m.Params, &params) != nil {
		return nil
	}
	params["progressToken"] = tok
	return jsonrpc.NewNotification(m.Method, jsonrpc.MustRaw(params))
}

var errStreamClosed = errors.New("relay: the call's stream is closed")

func (p *parkedCall) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// keyForLocked picks the inputRequests key of an upstream request: the
// upstream's own (params._meta[mcp.MetaInputKey]) or one named after the
// method, suffixed when taken.
func (p *parkedCall) keyForLocked(method string, params json.RawMessage) string {
	var hint struct {
		Meta map[string]json.RawMessage `json:"_meta"`
	}
	key := ""
	if json.Unmarshal(params, &hint) == nil {
		var s string
		if json.Unmarshal(hint.Meta[mcp.MetaInputKey], &s) == nil && validInputKey(s) {
			key = s
		}
	}
	if key == "" {
		key = mcp.RequiredCapability(method)
	}
	if key == "" {
		key = "input"
	}
	if p.keyUses == nil {
		p.keyUses = map[string]int{}
	}
	n := p.keyUses[key]
	p.keyUses[key] = n + 1
	if n > 0 {
		key += "_" + strconv.Itoa(n+1)
	}
	return key
}

func validInputKey(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// withdraw forgets an input the upstream cancelled (notifications/cancelled
// under the gateway's id).
func (p *parkedCall) withdraw(params json.RawMessage) {
	var c struct {
		RequestID json.RawMessage `json:"requestId"`
	}
	if json.Unmarshal(params, &c) != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, in := range p.inputs {
		if in.gatewayID == string(c.RequestID) {
			p.inputs = append(p.inputs[:i], p.inputs[i+1:]...)
			return
		}
	}
}

// finish records the upstream call's outcome (on the call's goroutine).
func (p *parkedCall) finish(resp *jsonrpc.Message, err error) {
	p.resp, p.err = resp, err
	p.mu.Lock()
	p.callTimer.Stop()
	inputs := p.inputs
	p.inputs = nil
	p.mu.Unlock()
	p.r.dropInputs(inputs, false) // the upstream no longer waits for them
	close(p.done)
	p.signal()
}

// end finishes p for good: no more rounds. With answerInputs the upstream
// hears that its requests will not be answered; cause cancels the
// upstream call.
func (p *parkedCall) end(cause error, answerInputs bool) {
	p.idle.Store(true) // it asks nothing more: attribution ignores it
	p.mu.Lock()
	p.state = finished
	p.attachedTo = nil
	inputs := p.inputs
	p.inputs = nil
	if p.parkTimer != nil {
		p.parkTimer.Stop()
	}
	p.mu.Unlock()
	p.r.dropInputs(inputs, answerInputs)
	p.endCall(cause)
	p.r.mrtr.unregister(p)
}

// parkExpired: no retry came within the park timeout
// (docs/protocol-eras.md §4.3 A step 5).
func (p *parkedCall) parkExpired() {
	p.mu.Lock()
	expired := p.state == parked
	p.mu.Unlock()
	if expired {
		p.r.mrtr.parkTimeouts.Add(1)
		p.r.log.Debug("parked call dropped: no retry", "upstream", p.upstream, "after", p.r.parkTimeout())
		p.end(errParkTimedOut, true)
	}
}

// dropInputs removes server→client requests from the relay; with answer,
// the upstream gets an error for each.
func (r *Relay) dropInputs(inputs []*pendingInput, answer bool) {
	for _, in := range inputs {
		r.mu.Lock()
		sr := r.serverReqs[in.gatewayID]
		delete(r.serverReqs, in.gatewayID)
		r.mu.Unlock()
		if sr == nil {
			continue
		}
		sr.stop()
		if answer {
			r.answerUpstream(sr, nil, errInputRefused)
		}
	}
}

// answerInput returns the client's answer to one upstream request under
// the upstream's id.
func (r *Relay) answerInput(in *pendingInput, result json.RawMessage) {
	r.mu.Lock()
	sr := r.serverReqs[in.gatewayID]
	delete(r.serverReqs, in.gatewayID)
	r.mu.Unlock()
	if sr == nil {
		return // timed out meanwhile (Options.ServerRequestTimeout)
	}
	sr.stop()
	r.answerUpstream(sr, jsonrpc.NewResponse(json.RawMessage(in.gatewayID), result), nil)
}

// parkedIdle reports whether cl is a parked call whose upstream handler
// waits for answers the client has not given, or one being ended: it
// cannot be the origin of a new upstream request, so attribution
// (Relay.attribute) leaves it out.
// Without this, one client that never retries would make every
// server→client request on that upstream unattributable for the park
// timeout.
func (cl *call) parkedIdle() bool {
	p, ok := cl.out.(*parkedCall)
	return ok && p.idle.Load()
}
