//lint:file-ignore SA1019 sampling is deprecated by 2026-07-28 (SEP-2577) but clients and servers of every era still use it; the gateway relays it and these tests prove that.

package gateway

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/internal/upstream"
)

// bothEras fronts a 2026-only upstream (the demo in its modern era, found
// by the probe) and a 2025-only one (the session-era demo).
const bothEras = `
upstreams:
  - name: modern
    command: DEMO
    args: [demo-server, --era, "2026-07-28"]
  - name: legacy
    command: DEMO
    args: [demo-server]
`

// TestSDKEraMatrix: the Go SDK negotiating 2026-07-28 and 2025-11-25, at
// the same time, through one gateway to a 2026-only and a 2025-only
// upstream (issue 4 item 4; docs/protocol-eras.md §4.2, §8): lists, calls,
// and sampling in every direction the gateway translates.
func TestSDKEraMatrix(t *testing.T) {
	endpoint, g := startGateway(t, parseConfig(t, bothEras))
	for name, want := range map[string]upstream.Era{"modern": upstream.EraModern, "legacy": upstream.EraSession} {
		conn, _ := g.pool.Get(name)
		if info := conn.Info(); info == nil || info.Era != want {
			t.Fatalf("upstream %s: info %+v, want era %q", name, info, want)
		}
	}

	var sampled atomic.Int32
	sampling := func(_ context.Context, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
		sampled.Add(1)
		return &mcp.CreateMessageResult{Model: "test-model", Role: "assistant", Content: &mcp.TextContent{Text: "sampled answer"}}, nil
	}
	clients := []struct {
		version string
		cs      *mcp.ClientSession
	}{
		{"2026-07-28", connectSDK(t, endpoint, "2026-07-28", &mcp.ClientOptions{CreateMessageHandler: sampling}, nil)},
		{"2025-11-25", connectSDK(t, endpoint, "2025-11-25", &mcp.ClientOptions{CreateMessageHandler: sampling}, nil)},
	}
	if clients[0].cs.ID() != "" || clients[1].cs.ID() == "" {
		t.Fatalf("sessions %q (2026) and %q (2025): want none and one", clients[0].cs.ID(), clients[1].cs.ID())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for _, c := range clients {
		wg.Go(func() {
			fail := func(format string, args ...any) { errs <- fmt.Errorf(c.version+": "+format, args...) }
			tools, err := c.cs.ListTools(ctx, nil)
			if err != nil {
				fail("tools/list: %v", err)
				return
			}
			listed := map[string]bool{}
			for _, tool := range tools.Tools {
				listed[tool.Name] = true
			}
			for _, up := range []string{"modern", "legacy"} {
				if !listed[up+"__test_sampling"] || !listed[up+"__echo"] {
					fail("tools/list lacks %s's tools", up)
				}
				msg := c.version + " to " + up
				res, err := c.cs.CallTool(ctx, &mcp.CallToolParams{Name: up + "__echo", Arguments: map[string]any{"message": msg}})
				if err != nil || !strings.Contains(textOf(t, res), msg) {
					fail("%s__echo: %v %v", up, err, res)
				}
			}
			// Sampling asked by the 2026 upstream through InputRequiredResult:
			// passed through to the 2026 client (its SDK retries), driven by
			// the gateway for the 2025 client (§4.3 B).
			res, err := c.cs.CallTool(ctx, &mcp.CallToolParams{Name: "modern__test_sampling", Arguments: map[string]any{"prompt": "hello"}})
			if err != nil || !strings.Contains(textOf(t, res), "LLM response: sampled answer") {
				fail("modern__test_sampling: %v %v", err, res)
			}
			if c.version == "2025-11-25" {
				// Sampling asked by the session-era upstream: today's relay.
				res, err := c.cs.CallTool(ctx, &mcp.CallToolParams{Name: "legacy__test_sampling", Arguments: map[string]any{"prompt": "hello"}})
				if err != nil || !strings.Contains(textOf(t, res), "LLM response: sampled answer") {
					fail("legacy__test_sampling: %v %v", err, res)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := sampled.Load(); n != 3 {
		t.Errorf("sampling handlers called %d times, want 3", n)
	}
}

// TestSDKEraLegacySamplingFor2026: sampling asked by a session-era upstream
// reaching a 2026-07-28 client as an InputRequiredResult (§4.3 A).
func TestSDKEraLegacySamplingFor2026(t *testing.T) {
	endpoint, _ := startGateway(t, parseConfig(t, bothEras))
	var sampled atomic.Int32
	cs := connectSDK(t, endpoint, "2026-07-28", &mcp.ClientOptions{
		CreateMessageHandler: func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			sampled.Add(1)
			return &mcp.CreateMessageResult{Model: "m", Role: "assistant", Content: &mcp.TextContent{Text: "sampled answer"}}, nil
		},
	}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "legacy__test_sampling", Arguments: map[string]any{"prompt": "hello"}})
	if err != nil || !strings.Contains(textOf(t, res), "LLM response: sampled answer") || sampled.Load() != 1 {
		t.Fatalf("legacy__test_sampling: %v %v (sampled %d times)", err, res, sampled.Load())
	}
}

// TestSDKEraSessionClientOfModern: a 2025-11-25 session in front of the
// 2026-only upstream: logging/setLevel becomes _meta logLevel, and a list
// change the upstream announces on the gateway's own listen reaches the
// session as notifications/tools/list_changed.
func TestSDKEraSessionClientOfModern(t *testing.T) {
	endpoint, _ := startGateway(t, parseConfig(t, bothEras))
	var logs atomic.Int32
	logged := make(chan struct{}, 1)
	changed := make(chan struct{}, 4)
	cs := connectSDK(t, endpoint, "2025-11-25", &mcp.ClientOptions{
		LoggingMessageHandler: func(_ context.Context, req *mcp.LoggingMessageRequest) {
			// Only the tool's own: the session-era upstream confirms
			// logging/setLevel with a log message of its own.
			if s, _ := req.Params.Data.(string); strings.HasPrefix(s, "Tool ") {
				logs.Add(1)
				select {
				case logged <- struct{}{}:
				default:
				}
			}
		},
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { changed <- struct{}{} },
	}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Without a level, the modern upstream sends no logs.
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "modern__test_tool_with_logging", Arguments: map[string]any{}}); err != nil {
		t.Fatalf("logging tool: %v", err)
	}
	if n := logs.Load(); n != 0 {
		t.Errorf("%d log messages before logging/setLevel, want 0", n)
	}
	if err := cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: "info"}); err != nil {
		t.Fatalf("setLevel: %v", err)
	}
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "modern__test_tool_with_logging", Arguments: map[string]any{}}); err != nil {
		t.Fatalf("logging tool: %v", err)
	}
	// Logs travel on the call's stream before its response, but the SDK
	// client may hand them to the handler after the response: wait for
	// the three.
	for logs.Load() < 3 {
		select {
		case <-logged:
		case <-ctx.Done():
			t.Fatalf("%d log messages at level info, want 3", logs.Load())
		}
	}

	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "modern__test_trigger_tool_change", Arguments: map[string]any{}}); err != nil {
		t.Fatalf("trigger: %v", err)
	}
	select {
	case <-changed:
	case <-ctx.Done():
		t.Fatal("no tools/list_changed after the modern upstream changed its tools")
	}
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("tools/list: %v", err)
	}
	found := false
	for _, tool := range tools.Tools {
		found = found || tool.Name == "modern__dynamic_tool"
	}
	if !found {
		t.Error("modern__dynamic_tool not listed after the change")
	}
}

// TestSDKEraLegacySSEClientOfModern: the oldest client generation, a
// 2024-11-05 client over HTTP+SSE (GET /sse, POST /messages), reaches the
// 2026-only upstream: lists, a call, and sampling asked by the upstream
// through an InputRequiredResult, driven by the gateway as a server→client
// request on the client's SSE stream (§4.3 B).
func TestSDKEraLegacySSEClientOfModern(t *testing.T) {
	endpoint, _ := startGateway(t, parseConfig(t, bothEras))
	var sampled atomic.Int32
	cs := connectLegacy(t, strings.TrimSuffix(endpoint, "/mcp"), "2024-11-05", &mcp.ClientOptions{
		CreateMessageHandler: func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			sampled.Add(1)
			return &mcp.CreateMessageResult{Model: "m", Role: "assistant", Content: &mcp.TextContent{Text: "sampled answer"}}, nil
		},
	})
	if v := cs.InitializeResult().ProtocolVersion; v != "2024-11-05" {
		t.Fatalf("negotiated %s, want 2024-11-05", v)
	}
	if names := toolNames(t, cs); !slices.Contains(names, "modern__echo") || !slices.Contains(names, "legacy__echo") {
		t.Fatalf("tools/list lacks an upstream's echo: %v", names)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "modern__echo", Arguments: map[string]any{"message": "from 2024"}})
	if err != nil || !strings.Contains(textOf(t, res), "from 2024") {
		t.Fatalf("modern__echo: %v %v", err, res)
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "modern__test_sampling", Arguments: map[string]any{"prompt": "hello"}})
	if err != nil || !strings.Contains(textOf(t, res), "LLM response: sampled answer") || sampled.Load() != 1 {
		t.Fatalf("modern__test_sampling: %v %v (sampled %d times)", err, res, sampled.Load())
	}
}
