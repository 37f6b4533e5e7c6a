//lint:file-ignore SA1019 sampling is deprecated by 2026-07-28 (SEP-2577) but clients and servers of every era still use it; the gateway relays it and these tests prove that.

package gateway

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/internal/sse/ssetest"
)

// connectSDK connects the official Go SDK client to the gateway.
func connectSDK(t *testing.T, endpoint, version string, opts *mcp.ClientOptions, httpClient *http.Client) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "sdk-test", Version: "1"}, opts)
	transport := &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: httpClient}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, transport, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connecting SDK client (%s): %v", version, err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func textOf(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// TestSDKClientEveryVersion: the Go SDK as an independent client, for each
// session-era revision, through the gateway to the demo upstream.
func TestSDKClientEveryVersion(t *testing.T) {
	endpoint, _ := startGateway(t, parseConfig(t, demoOnly))
	for _, version := range []string{"2025-03-26", "2025-06-18", "2025-11-25"} {
		t.Run(version, func(t *testing.T) {
			cs := connectSDK(t, endpoint, version, nil, nil)
			if got := cs.InitializeResult().ProtocolVersion; got != version {
				t.Errorf("negotiated %s, want %s", got, version)
			}
			if cs.ID() == "" {
				t.Error("no session id")
			}
			ctx := context.Background()
			if err := cs.Ping(ctx, nil); err != nil {
				t.Errorf("ping: %v", err)
			}
			tools, err := cs.ListTools(ctx, nil)
			if err != nil {
				t.Fatalf("tools/list: %v", err)
			}
			var names []string
			for _, tool := range tools.Tools {
				names = append(names, tool.Name)
			}
			for _, want := range []string{"echo", "test_simple_text", "test_tool_with_progress", "test_sampling"} {
				if !slices.Contains(names, want) {
					t.Errorf("tools/list lacks %q: %v", want, names)
				}
			}
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "hi " + version}})
			if err != nil {
				t.Fatalf("tools/call echo: %v", err)
			}
			if got := textOf(t, res); !strings.Contains(got, "hi "+version) {
				t.Errorf("echo = %q", got)
			}
			prompts, err := cs.ListPrompts(ctx, nil)
			if err != nil || len(prompts.Prompts) == 0 {
				t.Errorf("prompts/list: %v, %d prompts", err, len(prompts.Prompts))
			}
			rr, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "test://static-text"})
			if err != nil || len(rr.Contents) == 0 {
				t.Errorf("resources/read: %v", err)
			}
			rr, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "test://template/42/data"})
			if err != nil || len(rr.Contents) == 0 {
				t.Errorf("templated resources/read: %v", err)
			}
			_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "no_such_tool"})
			if err == nil {
				t.Error("unknown tool: no error")
			}
		})
	}
}

func TestSDKProgress(t *testing.T) {
	endpoint, _ := startGateway(t, parseConfig(t, demoOnly))
	var mu sync.Mutex
	var progress []float64
	cs := connectSDK(t, endpoint, "2025-11-25", &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			mu.Lock()
			progress = append(progress, req.Params.Progress)
			mu.Unlock()
		},
	}, nil)
	params := &mcp.CallToolParams{Name: "test_tool_with_progress", Arguments: map[string]any{}}
	params.SetProgressToken("tok-1")
	if _, err := cs.CallTool(context.Background(), params); err != nil {
		t.Fatalf("tools/call: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	// Progress notifications travel on the call's stream before the
	// response, so they have all arrived when CallTool returns.
	if len(progress) < 2 || !slices.IsSorted(progress) {
		t.Errorf("progress = %v, want increasing values", progress)
	}
}

func TestSDKSamplingRelay(t *testing.T) {
	endpoint, _ := startGateway(t, parseConfig(t, demoOnly))
	var asked atomic.Int32
	cs := connectSDK(t, endpoint, "2025-11-25", &mcp.ClientOptions{
		CreateMessageHandler: func(_ context.Context, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			asked.Add(1)
			return &mcp.CreateMessageResult{Model: "test-model", Role: "assistant", Content: &mcp.TextContent{Text: "sampled answer"}}, nil
		},
	}, nil)
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "test_sampling", Arguments: map[string]any{"prompt": "hello"}})
	if err != nil {
		t.Fatalf("tools/call test_sampling: %v", err)
	}
	if asked.Load() != 1 {
		t.Errorf("sampling handler called %d times, want 1", asked.Load())
	}
	if got := textOf(t, res); !strings.Contains(got, "sampled answer") {
		t.Errorf("result %q does not carry the client's sampling answer", got)
	}
}

func TestSDKCancellation(t *testing.T) {
	endpoint, g := startGateway(t, parseConfig(t, demoOnly))
	cs := connectSDK(t, endpoint, "2025-11-25", nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{"ms": 60000}})
		done <- err
	}()
	waitFor(t, "the slow call to be in flight", func() bool { return g.relay.InFlight() == 1 })
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("CallTool after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelled call did not return")
	}
	// The gateway forwarded the cancellation: the call is no longer in flight.
	waitFor(t, "the cancelled call to leave the relay", func() bool { return g.relay.InFlight() == 0 })
	// The session still works.
	if _, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "after"}}); err != nil {
		t.Errorf("call after cancellation: %v", err)
	}
}

// TestSDKResumesDroppedStream cuts the SSE response of a call mid-way; the
// SDK resumes with GET and Last-Event-ID and still gets the result.
func TestSDKResumesDroppedStream(t *testing.T) {
	endpoint, _ := startGateway(t, parseConfig(t, demoOnly))
	cutter := &ssetest.Cutter{Base: http.DefaultTransport, Marker: "\ndata: {"}
	cs := connectSDK(t, endpoint, "2025-11-25", &mcp.ClientOptions{
		ProgressNotificationHandler: func(context.Context, *mcp.ProgressNotificationClientRequest) {},
	}, &http.Client{Transport: cutter})
	cutter.Armed.Store(true)
	params := &mcp.CallToolParams{Name: "test_tool_with_progress", Arguments: map[string]any{}}
	params.SetProgressToken("resume-1")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := cs.CallTool(ctx, params)
	if err != nil {
		t.Fatalf("tools/call across a dropped stream: %v", err)
	}
	if cutter.Cuts.Load() != 1 {
		t.Fatalf("stream cut %d times, want 1: the test did not exercise resumption", cutter.Cuts.Load())
	}
	if !cutter.Resumed.Load() {
		t.Error("the client did not resume with Last-Event-ID")
	}
	if res.IsError {
		t.Errorf("result is an error: %v", textOf(t, res))
	}
}

// waitFor polls cond until it holds, failing the test after 10s. It polls a
// condition the test cannot be notified of (state inside the gateway); it
// is not a sleep standing in for synchronisation.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
