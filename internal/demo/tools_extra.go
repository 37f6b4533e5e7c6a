package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mcpgate/mcpgate/internal/mcp"
)

// CrashExitCode is the exit status of the crash tool.
const CrashExitCode = 3

// maxSlowMillis bounds the slow tool's wait.
const maxSlowMillis = 600_000

// envPrefixes are the only variable name prefixes get_env reads, so that the
// tool can never leak the gateway's secrets.
var envPrefixes = []string{"MCPGATE_", "DEMO_"}

// extraTools are tools for gateway tests, beyond the conformance fixture.
var extraTools = []*tool{
	{name: "echo", title: "Echo", description: "Echoes back the input message",
		inputSchema: json.RawMessage(`{"type":"object","properties":{"message":{"type":"string",` +
			`"description":"Message to echo"}},"required":["message"]}`),
		annotations: &toolAnnotations{ReadOnlyHint: true, IdempotentHint: true}, run: runEcho},
	{name: "add", title: "Add", description: "Adds two numbers; the result is also structured content",
		inputSchema: json.RawMessage(`{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}},` +
			`"required":["a","b"]}`),
		outputSchema: json.RawMessage(`{"type":"object","properties":{"sum":{"type":"number"}},"required":["sum"]}`),
		annotations:  &toolAnnotations{ReadOnlyHint: true, IdempotentHint: true}, run: runAdd},
	{name: "slow", title: "Slow", description: "Waits the given number of milliseconds (at most 600000), " +
		"reporting progress in ten steps when a progress token is given; stops when cancelled",
		inputSchema: json.RawMessage(`{"type":"object","properties":{"ms":{"type":"integer","minimum":0,` +
			`"maximum":600000,"description":"How long to wait, in milliseconds"}},"required":["ms"]}`),
		annotations: &toolAnnotations{ReadOnlyHint: true, IdempotentHint: true}, run: runSlow},
	{name: "get_env", title: "Get environment variable",
		description: "Returns the value of an environment variable whose name starts with MCPGATE_ or DEMO_",
		inputSchema: json.RawMessage(`{"type":"object","properties":{"name":{"type":"string",` +
			`"description":"Variable name, starting with MCPGATE_ or DEMO_"}},"required":["name"]}`),
		annotations: &toolAnnotations{ReadOnlyHint: true, IdempotentHint: true}, run: runGetEnv},
	{name: "crash", title: "Crash", description: "Exits the server process with status 3 without answering",
		inputSchema: emptyObjectSchema, annotations: &toolAnnotations{DestructiveHint: true}, run: runCrash},
	{name: "trigger_list_changed", title: "Trigger list changed",
		description: "Sends notifications/<list>/list_changed; for tools it also adds or removes dynamic_tool",
		inputSchema: json.RawMessage(`{"type":"object","properties":{"list":{"type":"string",` +
			`"enum":["tools","prompts","resources"],"default":"tools"}}}`),
		run: runTriggerListChanged},
	{name: "update_watched_resource", title: "Update watched resource",
		description: "Changes the content of test://watched-resource and notifies subscribers",
		inputSchema: json.RawMessage(`{"type":"object","properties":{"text":{"type":"string",` +
			`"description":"New content; default: a numbered update"}}}`),
		run: runUpdateWatched},
	{name: "list_roots", title: "List roots", description: "Asks the client for its roots (roots/list)",
		inputSchema: emptyObjectSchema, annotations: &toolAnnotations{ReadOnlyHint: true}, run: runListRoots},
}

// dynamicTool is listed only after trigger_list_changed added it.
var dynamicTool = &tool{name: "dynamic_tool", description: "A tool that trigger_list_changed adds and removes",
	inputSchema: emptyObjectSchema, run: constResult(textResult("dynamic_tool called"))}

func runEcho(_ context.Context, _ *server, _ *request, args json.RawMessage) *toolResult {
	var a struct {
		Message *string `json:"message"`
	}
	if msg, ok := fastMessageArg(args); ok { // fastpath.go
		a.Message = msg
	} else if res := decodeArgs(args, &a); res != nil {
		return res
	}
	if a.Message == nil {
		return errorResult("Invalid arguments: message is required")
	}
	return textResult("Echo: " + *a.Message)
}

func runAdd(_ context.Context, s *server, _ *request, args json.RawMessage) *toolResult {
	var a struct {
		A, B *float64
	}
	if res := decodeArgs(args, &a); res != nil {
		return res
	}
	if a.A == nil || a.B == nil {
		return errorResult("Invalid arguments: a and b are required")
	}
	sum := *a.A + *a.B
	res := textResult(fmt.Sprintf("The sum of %v and %v is %v.", *a.A, *a.B, sum))
	if v, _ := s.negotiated(); v >= mcp.Version20250618 { // structuredContent: 2025-06-18
		res.StructuredContent = json.RawMessage(`{"sum":` + strconv.FormatFloat(sum, 'g', -1, 64) + `}`)
	}
	return res
}

func runSlow(ctx context.Context, s *server, r *request, args json.RawMessage) *toolResult {
	var a struct {
		MS *int64 `json:"ms"`
	}
	if res := decodeArgs(args, &a); res != nil {
		return res
	}
	if a.MS == nil || *a.MS < 0 || *a.MS > maxSlowMillis {
		return errorResult("Invalid arguments: ms must be an integer from 0 to 600000")
	}
	const steps = 10
	step := time.Duration(*a.MS) * time.Millisecond / steps
	for i := 1; i <= steps; i++ {
		if !sleep(ctx, step) {
			s.log.Debug("slow tool cancelled", "id", string(r.id))
			return nil
		}
		s.progress(ctx, r, float64(i), steps, fmt.Sprintf("step %d of %d", i, steps))
	}
	return textResult(fmt.Sprintf("Slept %d ms", *a.MS))
}

func runGetEnv(_ context.Context, s *server, _ *request, args json.RawMessage) *toolResult {
	var a struct {
		Name string `json:"name"`
	}
	if res := decodeArgs(args, &a); res != nil {
		return res
	}
	allowed := false
	for _, p := range envPrefixes {
		allowed = allowed || (strings.HasPrefix(a.Name, p) && len(a.Name) > len(p))
	}
	if !allowed {
		return errorResult("get_env only reads variables whose names start with MCPGATE_ or DEMO_")
	}
	v, ok := s.opts.LookupEnv(a.Name)
	if !ok {
		return errorResult(a.Name + " is not set")
	}
	return textResult(v)
}

func runCrash(ctx context.Context, s *server, _ *request, _ json.RawMessage) *toolResult {
	s.log.Warn("crash tool called: exiting", "status", CrashExitCode)
	s.opts.Exit(CrashExitCode)
	<-ctx.Done() // Exit returned (a test hook): the call never answers.
	return nil
}

func runTriggerListChanged(_ context.Context, s *server, _ *request, args json.RawMessage) *toolResult {
	var a struct {
		List string `json:"list"`
	}
	if res := decodeArgs(args, &a); res != nil {
		return res
	}
	switch a.List {
	case "", "tools":
		s.mu.Lock()
		s.dynamicTool = !s.dynamicTool
		listed := s.dynamicTool
		s.mu.Unlock()
		s.notify(mcp.NotificationToolsListChanged, struct{}{})
		if listed {
			return textResult("tools list changed: dynamic_tool added")
		}
		return textResult("tools list changed: dynamic_tool removed")
	case "prompts":
		s.notify(mcp.NotificationPromptsListChanged, struct{}{})
	case "resources":
		s.notify(mcp.NotificationResourcesListChanged, struct{}{})
	default:
		return errorResult(`Invalid arguments: list must be "tools", "prompts" or "resources"`)
	}
	return textResult(a.List + " list changed")
}

func runUpdateWatched(_ context.Context, s *server, _ *request, args json.RawMessage) *toolResult {
	var a struct {
		Text *string `json:"text"`
	}
	if res := decodeArgs(args, &a); res != nil {
		return res
	}
	s.mu.Lock()
	s.watchUpdates++
	if a.Text != nil {
		s.watchedText = *a.Text
	} else {
		s.watchedText = fmt.Sprintf("%s (update %d)", watchedResourceText, s.watchUpdates)
	}
	subscribed := s.subscriptions[watchedResourceURI]
	s.mu.Unlock()
	if subscribed {
		// Only subscribed URIs get updates [resources §Subscriptions].
		s.notify(mcp.NotificationResourceUpdated, map[string]string{"uri": watchedResourceURI})
		return textResult("test://watched-resource updated; subscribers notified")
	}
	return textResult("test://watched-resource updated; no subscribers")
}

func runListRoots(ctx context.Context, s *server, _ *request, _ json.RawMessage) *toolResult {
	if _, caps := s.negotiated(); !declared(caps.Roots) {
		return errorResult("roots not supported: the client did not declare the roots capability")
	}
	raw, err := s.requestClient(ctx, mcp.MethodRootsList, struct{}{})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return errorResult("roots/list failed: " + errText(err))
	}
	return textResult("Roots: " + compactJSON(raw))
}
