package demo

import (
	"context"
	"encoding/json"
	"strings"
	"sync"

	"github.com/mcpgate/mcpgate/internal/mcp"
)

// The fixtures of the conformance suite's input-required-result-* (SEP-2322,
// multi-round-trip requests) scenarios (docs/protocol-eras.md §5, §6).
// They are session-era tools: they ask the client with server→client
// requests, and it is the gateway that turns each ask into an
// InputRequiredResult for a 2026-07-28 client and the client's retry into
// the answer (relay/mrtr_*.go). Each ask names its inputRequests key
// (params._meta[mcp.MetaInputKey]), the key the scenario looks for.

var toolsMRTR = []*tool{
	{name: "test_input_required_result_elicitation", description: "Asks the client for its name (elicitation, key user_name) and greets it",
		inputSchema: emptyObjectSchema, run: runIRRElicitation},
	{name: "test_input_required_result_sampling", description: "Asks the client's model a question (sampling, key capital_question)",
		inputSchema: emptyObjectSchema, run: runIRRSampling},
	{name: "test_input_required_result_list_roots", description: "Asks the client for its roots (roots/list, key client_roots)",
		inputSchema: emptyObjectSchema, run: runIRRListRoots},
	{name: "test_input_required_result_request_state", description: "Asks for a confirmation (key confirm); the answer says state-ok",
		inputSchema: emptyObjectSchema, run: runIRRConfirm("state-ok: confirmation received")},
	{name: "test_input_required_result_multiple_inputs", description: "Asks for a name, a greeting and the roots at once",
		inputSchema: emptyObjectSchema, run: runIRRMultipleInputs},
	{name: "test_input_required_result_multi_round", description: "Asks for a name (step1), then a favourite color (step2)",
		inputSchema: emptyObjectSchema, run: runIRRMultiRound},
	{name: "test_input_required_result_tampered_state", description: "Asks for a confirmation (key confirm); the gateway's requestState is integrity-protected",
		inputSchema: emptyObjectSchema, run: runIRRConfirm("confirmation received")},
	{name: "test_input_required_result_capabilities", description: "Asks only for what the request's clientCapabilities declare",
		inputSchema: emptyObjectSchema, run: runIRRCapabilities},
}

// promptMRTR asks for context before it answers (prompts/get is a
// supported MRTR request too, "input-required-result-non-tool-request").
var promptMRTR = &prompt{Name: "test_input_required_result_prompt", Title: "Prompt Needing Input",
	Description: "Asks the client for context (elicitation, key user_context) before returning its messages"}

var (
	nameSchema    = json.RawMessage(`{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}`)
	colorSchema   = json.RawMessage(`{"type":"object","properties":{"color":{"type":"string"}},"required":["color"]}`)
	confirmSchema = json.RawMessage(`{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]}`)
	contextSchema = json.RawMessage(`{"type":"object","properties":{"context":{"type":"string"}},"required":["context"]}`)
)

// ask is one server→client request of a fixture.
type ask struct {
	key    string // its inputRequests key
	method string
	params map[string]any
}

func elicitAsk(key, message string, schema json.RawMessage) ask {
	return ask{key, mcp.MethodElicitationCreate, map[string]any{"message": message, "requestedSchema": schema}}
}

func samplingAsk(key, text string, maxTokens int) ask {
	return ask{key, mcp.MethodSamplingCreateMessage, map[string]any{
		"messages":  []any{map[string]any{"role": "user", "content": textContent(text)}},
		"maxTokens": maxTokens,
	}}
}

func rootsAsk(key string) ask { return ask{key, mcp.MethodRootsList, map[string]any{}} }

// askClient sends one ask, with its key hint, and returns the client's
// result.
func (s *server) askClient(ctx context.Context, a ask) (json.RawMessage, error) {
	params := make(map[string]any, len(a.params)+2)
	for k, v := range a.params {
		params[k] = v
	}
	if a.method == mcp.MethodElicitationCreate {
		if v, _ := s.negotiated(); v == "" || v >= mcp.Version20251125 {
			params["mode"] = "form" // mode exists from 2025-11-25
		}
	}
	params["_meta"] = map[string]string{mcp.MetaInputKey: a.key}
	return s.requestClient(ctx, a.method, params)
}

// askAll sends every ask at once (so that the gateway can put them in one
// InputRequiredResult) and waits for all answers. In the modern era each
// ask returns at once, so they are made in order.
func (s *server) askAll(ctx context.Context, asks []ask) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, len(asks))
	errs := make([]error, len(asks))
	if roundFrom(ctx) != nil {
		for i, a := range asks {
			out[i], errs[i] = s.askClient(ctx, a)
		}
	} else {
		var wg sync.WaitGroup
		for i, a := range asks {
			wg.Go(func() { out[i], errs[i] = s.askClient(ctx, a) })
		}
		wg.Wait()
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// askFailed is the tool's answer when an ask failed; nil when the call was
// cancelled.
func askFailed(ctx context.Context, err error) *toolResult {
	if ctx.Err() != nil {
		return nil
	}
	return errorResult("Input request failed: " + errText(err))
}

// elicitedField reads one field of an accepted ElicitResult's content.
func elicitedField(raw json.RawMessage, field string) (string, bool) {
	var res struct {
		Action  string                     `json:"action"`
		Content map[string]json.RawMessage `json:"content"`
	}
	if json.Unmarshal(raw, &res) != nil || res.Action != "accept" {
		return "", false
	}
	v := res.Content[field]
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s, true
	}
	return strings.TrimSpace(string(v)), len(v) > 0
}

func runIRRElicitation(ctx context.Context, s *server, _ *request, _ json.RawMessage) *toolResult {
	raw, err := s.askClient(ctx, elicitAsk("user_name", "What is your name?", nameSchema))
	if err != nil {
		return askFailed(ctx, err)
	}
	name, ok := elicitedField(raw, "name")
	if !ok {
		return textResult("No name was given")
	}
	return textResult("Hello, " + name + "!")
}

func runIRRSampling(ctx context.Context, s *server, _ *request, _ json.RawMessage) *toolResult {
	raw, err := s.askClient(ctx, samplingAsk("capital_question", "What is the capital of France?", 100))
	if err != nil {
		return askFailed(ctx, err)
	}
	return textResult("The model answered: " + samplingText(raw))
}

func runIRRListRoots(ctx context.Context, s *server, _ *request, _ json.RawMessage) *toolResult {
	raw, err := s.askClient(ctx, rootsAsk("client_roots"))
	if err != nil {
		return askFailed(ctx, err)
	}
	return textResult("Client roots: " + rootURIs(raw))
}

func rootURIs(raw json.RawMessage) string {
	var res struct {
		Roots []struct {
			URI string `json:"uri"`
		} `json:"roots"`
	}
	_ = json.Unmarshal(raw, &res)
	uris := make([]string, len(res.Roots))
	for i, r := range res.Roots {
		uris[i] = r.URI
	}
	if len(uris) == 0 {
		return "none"
	}
	return strings.Join(uris, ", ")
}

func runIRRConfirm(answer string) toolFunc {
	return func(ctx context.Context, s *server, _ *request, _ json.RawMessage) *toolResult {
		raw, err := s.askClient(ctx, elicitAsk("confirm", "Please confirm", confirmSchema))
		if err != nil {
			return askFailed(ctx, err)
		}
		ok, _ := elicitedField(raw, "ok")
		return textResult(answer + " (ok=" + ok + ")")
	}
}

func runIRRMultipleInputs(ctx context.Context, s *server, _ *request, _ json.RawMessage) *toolResult {
	res, err := s.askAll(ctx, []ask{
		elicitAsk("user_name", "What is your name?", nameSchema),
		samplingAsk("greeting", "Generate a greeting", 50),
		rootsAsk("client_roots"),
	})
	if err != nil {
		return askFailed(ctx, err)
	}
	name, _ := elicitedField(res[0], "name")
	return textResult("Name: " + name + "; greeting: " + samplingText(res[1]) + "; roots: " + rootURIs(res[2]))
}

func runIRRMultiRound(ctx context.Context, s *server, _ *request, _ json.RawMessage) *toolResult {
	raw, err := s.askClient(ctx, elicitAsk("step1", "Step 1: What is your name?", nameSchema))
	if err != nil {
		return askFailed(ctx, err)
	}
	name, _ := elicitedField(raw, "name")
	raw, err = s.askClient(ctx, elicitAsk("step2", "Step 2: What is your favorite color?", colorSchema))
	if err != nil {
		return askFailed(ctx, err)
	}
	color, _ := elicitedField(raw, "color")
	return textResult(name + "'s favorite color is " + color)
}

// runIRRCapabilities asks for each of sampling, elicitation and roots only
// when the request declares it [MRTR §Server Requirements] 7. The
// capabilities are the request's _meta clientCapabilities, which the
// gateway passes through for a 2026-07-28 client; a session client's are
// its session's.
func runIRRCapabilities(ctx context.Context, s *server, r *request, _ json.RawMessage) *toolResult {
	caps := requestCapabilities(s, r)
	var asks []ask
	if declared(caps.Sampling) {
		asks = append(asks, samplingAsk("capability_sampling", "Say hello", 20))
	}
	if declared(caps.Elicitation) {
		asks = append(asks, elicitAsk("capability_elicitation", "What is your name?", nameSchema))
	}
	if declared(caps.Roots) {
		asks = append(asks, rootsAsk("capability_roots"))
	}
	if len(asks) == 0 {
		return textResult("The client declared none of sampling, elicitation and roots")
	}
	if _, err := s.askAll(ctx, asks); err != nil {
		return askFailed(ctx, err)
	}
	methods := make([]string, len(asks))
	for i, a := range asks {
		methods[i] = a.method
	}
	return textResult("Asked for: " + strings.Join(methods, ", "))
}

// requestCapabilities are the request's _meta clientCapabilities when it
// has them, else the session's.
func requestCapabilities(s *server, r *request) clientCapabilities {
	var p struct {
		Meta struct {
			Caps *clientCapabilities `json:"io.modelcontextprotocol/clientCapabilities"`
		} `json:"_meta"`
	}
	if json.Unmarshal(r.params, &p) == nil && p.Meta.Caps != nil {
		return *p.Meta.Caps
	}
	_, caps := s.negotiated()
	return caps
}

// getPromptMRTR serves prompts/get of promptMRTR.
func (s *server) getPromptMRTR(ctx context.Context) (any, error) {
	raw, err := s.askClient(ctx, elicitAsk("user_context", "What context should the prompt use?", contextSchema))
	if err != nil {
		return nil, err
	}
	text, ok := elicitedField(raw, "context")
	if !ok {
		text = "(none given)"
	}
	return struct {
		Description string          `json:"description"`
		Messages    []promptMessage `json:"messages"`
	}{promptMRTR.Description, []promptMessage{userMessage(textContent("Use this context: " + text))}}, nil
}
