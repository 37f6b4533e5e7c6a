package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// suiteTools are the tools of the conformance suite's reference server, with
// its names, descriptions and results.
var suiteTools = []*tool{
	{name: "test_simple_text", description: "Tests simple text content response", inputSchema: emptyObjectSchema,
		run: constResult(textResult("This is a simple text response for testing."))},
	{name: "test_image_content", description: "Tests image content response", inputSchema: emptyObjectSchema,
		run: constResult(&toolResult{Content: []content{{Type: "image", Data: testImageBase64, MimeType: "image/png"}}})},
	{name: "test_audio_content", description: "Tests audio content response", inputSchema: emptyObjectSchema,
		run: constResult(&toolResult{Content: []content{{Type: "audio", Data: testAudioBase64, MimeType: "audio/wav"}}})},
	{name: "test_embedded_resource", description: "Tests embedded resource content response", inputSchema: emptyObjectSchema,
		run: constResult(&toolResult{Content: []content{{Type: "resource", Resource: &resourceContents{
			URI: "test://embedded-resource", MimeType: "text/plain", Text: "This is an embedded resource content."}}}})},
	{name: "test_multiple_content_types", description: "Tests response with multiple content types (text, image, resource)",
		inputSchema: emptyObjectSchema, run: constResult(&toolResult{Content: []content{
			textContent("Multiple content types test:"),
			{Type: "image", Data: testImageBase64, MimeType: "image/png"},
			{Type: "resource", Resource: &resourceContents{URI: "test://mixed-content-resource",
				MimeType: "application/json", Text: `{"test":"data","value":123}`}},
		}})},
	{name: "test_tool_with_logging", description: "Tests tool that emits log messages during execution",
		inputSchema: emptyObjectSchema, run: runWithLogging},
	{name: "test_tool_with_progress", description: "Tests tool that reports progress notifications",
		inputSchema: emptyObjectSchema, run: runWithProgress},
	{name: "test_error_handling", description: "Tests error response handling", inputSchema: emptyObjectSchema,
		run: constResult(errorResult("This tool intentionally returns an error for testing"))},
	{name: "test_reconnection", description: "Tests SSE stream disconnection and client reconnection (SEP-1699). " +
		"Over stdio it only takes a few hundred milliseconds to answer; the gateway decides when to close the stream.",
		inputSchema: emptyObjectSchema, run: runReconnection},
	{name: "test_sampling", description: "Tests server-initiated sampling (LLM completion request)",
		inputSchema: json.RawMessage(`{"type":"object","properties":{"prompt":{"type":"string",` +
			`"description":"The prompt to send to the LLM"}},"required":["prompt"]}`),
		run: runSampling},
	{name: "test_elicitation", description: "Tests server-initiated elicitation (user input request)",
		inputSchema: json.RawMessage(`{"type":"object","properties":{"message":{"type":"string",` +
			`"description":"The message to show the user"}},"required":["message"]}`),
		run: runElicitation},
	{name: "test_elicitation_sep1034_defaults", description: "Tests elicitation with default values per SEP-1034",
		inputSchema: emptyObjectSchema,
		run:         elicitFixed("Please review and update the form fields with defaults", sep1034Schema)},
	{name: "test_elicitation_sep1330_enums", description: "Tests elicitation with enum schema improvements per SEP-1330",
		inputSchema: emptyObjectSchema, run: elicitFixed("Please select options from the enum fields", sep1330Schema)},
	{name: "json_schema_2020_12_tool", description: "Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)",
		inputSchema: jsonSchema202012, run: runJSONSchemaTool},
}

func constResult(res *toolResult) toolFunc {
	return func(context.Context, *server, *request, json.RawMessage) *toolResult { return res }
}

// sleep waits d or until ctx ends; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func runWithLogging(ctx context.Context, s *server, _ *request, _ json.RawMessage) *toolResult {
	for i, msg := range []string{"Tool execution started", "Tool processing data", "Tool execution completed"} {
		if i > 0 && !sleep(ctx, s.opts.StepDelay) {
			return nil
		}
		s.logFor(ctx, "info", msg)
	}
	return textResult("Tool with logging executed successfully")
}

// progress sends notifications/progress for r when it carries a progress
// token; without one nothing is sent [PR: only tokens of active requests].
func (s *server) progress(ctx context.Context, r *request, progress, total float64, message string) {
	if r.progressToken == nil {
		return
	}
	p := struct {
		ProgressToken json.RawMessage `json:"progressToken"`
		Progress      float64         `json:"progress"`
		Total         float64         `json:"total,omitempty"`
		Message       string          `json:"message,omitempty"`
	}{r.progressToken, progress, total, message}
	if v, _ := s.negotiated(); v < mcp.Version20250326 {
		p.Message = "" // message was added in 2025-03-26
	}
	s.sendFor(ctx, jsonrpc.NewNotification(mcp.NotificationProgress, jsonrpc.MustRaw(p)))
}

func runWithProgress(ctx context.Context, s *server, r *request, _ json.RawMessage) *toolResult {
	for i, step := range []float64{0, 50, 100} {
		if i > 0 && !sleep(ctx, s.opts.StepDelay) {
			return nil
		}
		s.progress(ctx, r, step, 100, fmt.Sprintf("Completed step %v of 100", step))
	}
	// Like the reference server, answer with the token itself.
	token := "no progress token"
	if r.progressToken != nil {
		token = tokenText(r.progressToken)
	}
	return textResult(token)
}

// tokenText renders a string or integer token as JavaScript's String() would.
func tokenText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

func runReconnection(ctx context.Context, s *server, _ *request, _ json.RawMessage) *toolResult {
	if !sleep(ctx, s.opts.ReconnectionDelay) {
		return nil
	}
	return textResult("Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure.")
}

func runJSONSchemaTool(_ context.Context, _ *server, _ *request, args json.RawMessage) *toolResult {
	return textResult("JSON Schema 2020-12 tool called with: " + compactJSON(args))
}

// declared reports whether a capability is present (and not null).
func declared(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }

// errText is the client-visible text of a server→client request failure.
func errText(err error) string {
	var rpcErr *jsonrpc.Error
	if errors.As(err, &rpcErr) {
		return fmt.Sprintf("%s (code %d)", rpcErr.Message, rpcErr.Code)
	}
	return err.Error()
}

func runSampling(ctx context.Context, s *server, _ *request, args json.RawMessage) *toolResult {
	var a struct {
		Prompt *string `json:"prompt"`
	}
	if res := decodeArgs(args, &a); res != nil {
		return res
	}
	if a.Prompt == nil {
		return errorResult("Invalid arguments: prompt is required")
	}
	// Servers use only capabilities the client declared [L §Operation].
	if _, caps := s.negotiated(); !declared(caps.Sampling) {
		return errorResult("Sampling not supported or error: the client did not declare the sampling capability")
	}
	return sample(ctx, s, *a.Prompt, 100)
}

// sample asks the client's model (sampling/createMessage) with prompt and
// answers with the text it got, or the tool error the conformance scenarios
// expect; nil when ctx ended the call.
func sample(ctx context.Context, s *server, prompt string, maxTokens int) *toolResult {
	params := map[string]any{
		"messages":  []any{map[string]any{"role": "user", "content": textContent(prompt)}},
		"maxTokens": maxTokens,
	}
	raw, err := s.requestClient(ctx, mcp.MethodSamplingCreateMessage, params)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return errorResult("Sampling not supported or error: " + errText(err))
	}
	return textResult("LLM response: " + samplingText(raw))
}

// samplingText extracts the text of a CreateMessageResult: content is one
// block, or (2025-11-25, sampling with tools) an array of blocks.
func samplingText(raw json.RawMessage) string {
	var res struct {
		Content json.RawMessage `json:"content"`
	}
	_ = json.Unmarshal(raw, &res)
	type block struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	var one block
	if json.Unmarshal(res.Content, &one) == nil && one.Text != "" {
		return one.Text
	}
	var many []block
	if json.Unmarshal(res.Content, &many) == nil {
		for _, b := range many {
			if b.Type == "text" && b.Text != "" {
				return b.Text
			}
		}
	}
	return "No response"
}

func runElicitation(ctx context.Context, s *server, _ *request, args json.RawMessage) *toolResult {
	var a struct {
		Message *string `json:"message"`
	}
	if res := decodeArgs(args, &a); res != nil {
		return res
	}
	if a.Message == nil {
		return errorResult("Invalid arguments: message is required")
	}
	action, content, res := s.elicit(ctx, *a.Message, elicitationSchema)
	if ctx.Err() != nil {
		return nil
	}
	if res != nil {
		return res
	}
	return textResult(fmt.Sprintf("User response: action=%s, content=%s", action, content))
}

func elicitFixed(message string, schema json.RawMessage) toolFunc {
	return func(ctx context.Context, s *server, _ *request, _ json.RawMessage) *toolResult {
		action, content, res := s.elicit(ctx, message, schema)
		if ctx.Err() != nil {
			return nil
		}
		if res != nil {
			return res
		}
		return textResult(fmt.Sprintf("Elicitation completed: action=%s, content=%s", action, content))
	}
}

// elicit sends elicitation/create (form mode) and returns the action and the
// compact content ("{}" when absent). On failure it returns the tool's error
// result instead; callers check ctx first, since a cancelled call has no result.
func (s *server) elicit(ctx context.Context, message string, schema json.RawMessage) (action, content string, failed *toolResult) {
	v, caps := s.negotiated()
	if !declared(caps.Elicitation) || v < mcp.Version20250618 { // elicitation: 2025-06-18
		return "", "", errorResult("Elicitation not supported or error: the client did not declare the elicitation capability")
	}
	params := map[string]any{"message": message, "requestedSchema": schema}
	if v >= mcp.Version20251125 {
		params["mode"] = "form" // mode was added in 2025-11-25 (URL mode elicitation)
	}
	raw, err := s.requestClient(ctx, mcp.MethodElicitationCreate, params)
	if err != nil {
		return "", "", errorResult("Elicitation not supported or error: " + errText(err))
	}
	var res struct {
		Action  string          `json:"action"`
		Content json.RawMessage `json:"content"`
	}
	if json.Unmarshal(raw, &res) != nil || res.Action == "" {
		return "", "", errorResult("Elicitation not supported or error: malformed elicitation result")
	}
	content = "{}"
	if declared(res.Content) {
		content = compactJSON(res.Content)
	}
	return res.Action, content, nil
}

// compactJSON returns raw without insignificant whitespace.
func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}
