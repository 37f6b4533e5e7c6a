//lint:file-ignore SA1019 sampling is deprecated by 2026-07-28 (SEP-2577) but clients and servers of every era still use it; the gateway relays it and these tests prove that.

package gateway

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/internal/upstream"
)

// sdkServerEnv makes the test binary run a go-sdk MCP server on stdio that
// supports only the protocol version in the variable: an upstream written
// independently of the gateway (docs/protocol-eras.md §6, last paragraph).
const sdkServerEnv = "MCPGATE_TEST_SDK_SERVER"

// runSDKServer serves one tool, "ask", that asks the client's model with
// the SDK's multi-round-trip API: it returns inputRequests, and the SDK
// either sends them as they are (2026-07-28) or turns them into a
// sampling/createMessage request to the client (session era).
func runSDKServer(version string) int {
	srv := mcp.NewServer(&mcp.Implementation{Name: "sdk-upstream-" + version, Version: "1"},
		&mcp.ServerOptions{SupportedProtocolVersions: []string{version}})
	srv.AddTool(&mcp.Tool{Name: "ask", Description: "asks the model", InputSchema: map[string]any{"type": "object"}},
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			if res, ok := req.Params.InputResponses["q"].(*mcp.CreateMessageWithToolsResult); ok {
				text := ""
				for _, c := range res.Content {
					if tc, ok := c.(*mcp.TextContent); ok {
						text += tc.Text
					}
				}
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: version + " upstream heard: " + text}}}, nil
			}
			return &mcp.CallToolResult{InputRequests: mcp.InputRequestMap{"q": &mcp.CreateMessageParams{
				Messages:  []*mcp.SamplingMessage{{Role: "user", Content: &mcp.TextContent{Text: "hi"}}},
				MaxTokens: 10,
			}}}, nil
		})
	if err := srv.Run(context.Background(), &mcp.StdioTransport{}); err != nil {
		fmt.Fprintln(os.Stderr, "sdk upstream:", err)
		return 1
	}
	return 0
}

// TestSDKEraMatrixSDKUpstreams is TestSDKEraMatrix with go-sdk servers as
// the upstreams: one that speaks only 2026-07-28, one only 2025-11-25.
// Both SDK clients sample through both: the gateway passes the modern
// upstream's InputRequiredResult to the 2026 client, drives it for the
// 2025 client (§4.3 B), relays the session-era upstream's sampling request
// to the 2025 client, and turns it into an InputRequiredResult for the
// 2026 client (§4.3 A).
func TestSDKEraMatrixSDKUpstreams(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg := parseConfig(t, fmt.Sprintf(`
upstreams:
  - name: sdk26
    command: %[1]q
    env: {%[2]s: "2026-07-28", GORACE: "atexit_sleep_ms=0"}
  - name: sdk25
    command: %[1]q
    env: {%[2]s: "2025-11-25", GORACE: "atexit_sleep_ms=0"}
`, exe, sdkServerEnv))
	endpoint, g := startGateway(t, cfg)
	for name, want := range map[string]upstream.Era{"sdk26": upstream.EraModern, "sdk25": upstream.EraSession} {
		conn, _ := g.pool.Get(name)
		if info := conn.Info(); info == nil || info.Era != want {
			t.Fatalf("upstream %s: info %+v, want era %q", name, info, want)
		}
	}
	var sampled atomic.Int32
	opts := &mcp.ClientOptions{CreateMessageHandler: func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
		sampled.Add(1)
		return &mcp.CreateMessageResult{Model: "m", Role: "assistant", Content: &mcp.TextContent{Text: "sampled answer"}}, nil
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	clients := map[string]*mcp.ClientSession{}
	for _, version := range []string{"2026-07-28", "2025-11-25"} {
		clients[version] = connectSDK(t, endpoint, version, opts, nil)
	}
	ask := func(version, up string) error {
		res, err := clients[version].CallTool(ctx, &mcp.CallToolParams{Name: up + "__ask", Arguments: map[string]any{}})
		if err != nil {
			return fmt.Errorf("%s client, %s__ask: %w", version, up, err)
		}
		if got := textOf(t, res); !strings.Contains(got, "upstream heard: sampled answer") {
			return fmt.Errorf("%s client, %s__ask: %q (isError %v)", version, up, got, res.IsError)
		}
		return nil
	}
	// The modern upstream's input requests belong to their call: both
	// clients at once.
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for version := range clients {
		wg.Go(func() { errs <- ask(version, "sdk26") })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	// A shared session-era stdio upstream's sampling request carries no
	// link to its call, so the gateway routes it only while one session
	// has calls there (docs/architecture.md "Attribution on shared
	// upstreams"): one client at a time.
	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		if err := ask(version, "sdk25"); err != nil {
			t.Error(err)
		}
	}
	if n := sampled.Load(); n != 4 {
		t.Errorf("sampling handlers called %d times, want 4", n)
	}
}
