package demo

import (
	"context"
	"encoding/json"

	"github.com/mcpgate/mcpgate/internal/mcp"
)

// tools2026 are the diagnostic tools the 2026-07-28 conformance scenarios
// call (docs/protocol-eras.md §5, §6). This server is session-era: the
// gateway translates for 2026-07-28 clients, so these tools behave as a
// session-era server would and the checks exercise the gateway's
// translation (-32021 for an undeclared capability, no server→client
// request on a stateless stream, no log without a per-request logLevel).
var tools2026 = []*tool{
	{name: "test_missing_capability", description: "Needs the client's sampling capability: asks for one sampling/createMessage",
		inputSchema: emptyObjectSchema, run: runMissingCapability},
	{name: "test_streaming_elicitation", description: "Logs a message, then asks the client for input with elicitation/create",
		inputSchema: emptyObjectSchema, run: runStreamingElicitation},
	{name: "test_logging_tool", description: "Logs three messages (info) while it runs",
		inputSchema: emptyObjectSchema, run: runWithLogging},
	{name: "test_header_param", description: "Echoes its region argument, which clients mirror in the Mcp-Param-Region header",
		inputSchema: json.RawMessage(`{"type":"object","properties":{"region":{"type":"string",` +
			`"description":"A region name","x-mcp-header":"Region"}},"required":["region"]}`),
		run: runHeaderParam},
	{name: "test_trigger_tool_change", description: "Adds or removes dynamic_tool and sends notifications/tools/list_changed",
		inputSchema: emptyObjectSchema, run: runTriggerToolChange},
	{name: "test_trigger_prompt_change", description: "Adds or removes dynamic_prompt and sends notifications/prompts/list_changed",
		inputSchema: emptyObjectSchema, run: runTriggerPromptChange},
}

// runTriggerToolChange is trigger_list_changed for tools: the scenarios of
// §5 need the list itself to change, since the gateway announces a change
// only when its aggregate list changed (docs/protocol-eras.md §4.4).
func runTriggerToolChange(ctx context.Context, s *server, r *request, _ json.RawMessage) *toolResult {
	return runTriggerListChanged(ctx, s, r, json.RawMessage(`{"list":"tools"}`))
}

func runTriggerPromptChange(_ context.Context, s *server, _ *request, _ json.RawMessage) *toolResult {
	s.mu.Lock()
	s.dynamicPrompt = !s.dynamicPrompt
	listed := s.dynamicPrompt
	s.mu.Unlock()
	s.notify(mcp.NotificationPromptsListChanged, struct{}{})
	if listed {
		return textResult("prompts list changed: dynamic_prompt added")
	}
	return textResult("prompts list changed: dynamic_prompt removed")
}

func runMissingCapability(ctx context.Context, s *server, _ *request, _ json.RawMessage) *toolResult {
	return sample(ctx, s, "Say hello", 20)
}

// runStreamingElicitation answers with a result even when the elicitation
// is refused: the scenario inspects the response stream, not the answer.
func runStreamingElicitation(ctx context.Context, s *server, _ *request, _ json.RawMessage) *toolResult {
	s.logFor(ctx, "info", "Starting streaming elicitation")
	action, content, res := s.elicit(ctx, "What is your name?", elicitationSchema)
	switch {
	case ctx.Err() != nil:
		return nil
	case res != nil:
		return textResult("Elicitation unavailable; continuing without it")
	}
	return textResult("Elicitation completed: action=" + action + ", content=" + content)
}

func runHeaderParam(_ context.Context, _ *server, _ *request, args json.RawMessage) *toolResult {
	var a struct {
		Region *string `json:"region"`
	}
	if res := decodeArgs(args, &a); res != nil {
		return res
	}
	if a.Region == nil {
		return errorResult("Invalid arguments: region is required")
	}
	return textResult("region: " + *a.Region)
}
