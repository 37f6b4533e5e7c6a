package demo

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// Multi-round-trip requests in the modern era [MRTR] =
// docs/specification/2026-07-28/basic/patterns/mrtr.mdx. The tools are the
// session era's: each call of requestClient becomes an input request keyed
// r1, r2, … in call order. A round that asked for input answers with an
// InputRequiredResult; the client retries with inputResponses and the
// requestState, and the tool runs again from the start, its earlier asks
// now answered from the accumulated responses (the SDK's
// serverMultiRoundTripMiddleware pattern). requestState carries the
// responses so far, authenticated with the process's key (MRTR §Server
// Requirements 4: the server must not trust it blindly).

// round is one MRTR round of one request.
type round struct {
	caps     clientCapabilities
	logLevel int // index in logLevels; -1: no logs
	key      []byte

	mu sync.Mutex // guards the fields below
	// answers are the responses of earlier rounds and this request's
	// inputResponses, by key.
	answers map[string]json.RawMessage
	next    int
	// asked are this round's unanswered input requests, by key.
	asked map[string]inputRequest
	// missing is a capability asked for but not declared ("sampling", …).
	missing string
}

type inputRequest struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params,omitempty"`
}

type roundKey struct{}

func withRound(ctx context.Context, rd *round) context.Context {
	return context.WithValue(ctx, roundKey{}, rd)
}

// roundFrom returns the request's round in the modern era, else nil.
func roundFrom(ctx context.Context) *round {
	rd, _ := ctx.Value(roundKey{}).(*round)
	return rd
}

// errInputRequired ends a tool's ask: the answer comes in a later round.
var errInputRequired = errors.New("input required from the client")

// newRound reads a request's _meta, inputResponses and requestState.
func (s *server) newRound(p modernParams) (*round, *jsonrpc.Error) {
	rd := &round{logLevel: -1, key: s.modern.key[:], answers: map[string]json.RawMessage{}, asked: map[string]inputRequest{}}
	if json.Unmarshal(p.Meta.ClientCapabilities, &rd.caps) != nil {
		return nil, invalidParams("clientCapabilities must be an object")
	}
	if p.Meta.LogLevel != "" {
		if rd.logLevel = slices.Index(logLevels, p.Meta.LogLevel); rd.logLevel < 0 {
			return nil, invalidParams("unknown logLevel")
		}
	}
	if p.RequestState != nil {
		prev, ok := openState(rd.key, *p.RequestState)
		if !ok {
			// [MRTR §Server Requirements 4]: state that fails
			// verification is rejected.
			return nil, invalidParams("requestState is not valid")
		}
		rd.answers = prev
	}
	for k, v := range p.InputResponses {
		// [MRTR §Error Handling]: a malformed response is a protocol error.
		if len(v) == 0 || v[0] != '{' {
			return nil, invalidParams("inputResponses." + k + " must be a result object")
		}
		rd.answers[k] = v // keys no ask uses are never read

	}
	return rd, nil
}

// ask is requestClient in the modern era: the answer from an earlier round,
// or a new input request. A capability the request did not declare ends
// the round with -32021 [B26 §_meta].
func (rd *round) ask(method string, params any) (json.RawMessage, error) {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	rd.next++
	raw := jsonrpc.MustRaw(params)
	key := inputKey(raw)
	if key == "" {
		key = "r" + strconv.Itoa(rd.next)
	}
	if v, ok := rd.answers[key]; ok {
		return v, nil
	}
	if c := mcp.RequiredCapability(method); c != "" && !declared(rd.capability(c)) {
		rd.missing = c
		return nil, errInputRequired
	}
	rd.asked[key] = inputRequest{Method: method, Params: raw}
	return nil, errInputRequired
}

func (rd *round) capability(name string) json.RawMessage {
	switch name {
	case "sampling":
		return rd.caps.Sampling
	case "elicitation":
		return rd.caps.Elicitation
	}
	return rd.caps.Roots
}

// missingError is the -32021 MissingRequiredClientCapability of a round
// that asked for an undeclared capability, else nil.
func (rd *round) missingError() *jsonrpc.Error {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if rd.missing == "" {
		return nil
	}
	return &jsonrpc.Error{Code: mcp.CodeMissingClientCapability, Message: "Missing required client capability: " + rd.missing,
		Data: jsonrpc.MustRaw(map[string]any{"requiredCapabilities": map[string]any{rd.missing: struct{}{}}})}
}

// inputRequired is the InputRequiredResult of a round that asked for
// input, else nil [MRTR §InputRequiredResult].
func (rd *round) inputRequired() json.RawMessage {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if len(rd.asked) == 0 {
		return nil
	}
	return jsonrpc.MustRaw(struct {
		ResultType    string                  `json:"resultType"`
		InputRequests map[string]inputRequest `json:"inputRequests"`
		RequestState  string                  `json:"requestState"`
	}{"input_required", rd.asked, sealState(rd.key, rd.answers)})
}

// sealState encodes answers as base64url(JSON) "." base64url(HMAC-SHA256).
func sealState(key []byte, answers map[string]json.RawMessage) string {
	body := base64.RawURLEncoding.EncodeToString(jsonrpc.MustRaw(answers))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(body))
	return body + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// openState verifies and decodes a requestState from sealState.
func openState(key []byte, state string) (map[string]json.RawMessage, bool) {
	body, sig, ok := strings.Cut(state, ".")
	if !ok {
		return nil, false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return nil, false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(body))
	if !hmac.Equal(got, mac.Sum(nil)) {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return nil, false
	}
	answers := map[string]json.RawMessage{}
	if json.Unmarshal(raw, &answers) != nil {
		return nil, false
	}
	return answers, true
}

// inputKey is the key a fixture names for its ask in
// params._meta[mcp.MetaInputKey] (tools_mrtr.go), or "".
func inputKey(params json.RawMessage) string {
	var p struct {
		Meta map[string]json.RawMessage `json:"_meta"`
	}
	var key string
	if json.Unmarshal(params, &p) == nil {
		_ = json.Unmarshal(p.Meta[mcp.MetaInputKey], &key)
	}
	return key
}
