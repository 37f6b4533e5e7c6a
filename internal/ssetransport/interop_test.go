package ssetransport

import (
	"context"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/internal/httpfront"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/mcpsession/mcpsessiontest"
)

var toolsAdvertised = map[string]any{"tools": map[string]any{"listChanged": true}}

// TestGoSDKSSEClient drives the transport with the official Go SDK's
// SSEClientTransport, an independent implementation of the 2024-11-05
// client.
func TestGoSDKSSEClient(t *testing.T) {
	for _, l := range lanes {
		t.Run(l.name, func(t *testing.T) { goSDKSSEClient(t, l.front) })
	}
}

// lanes are the two ways the gateway serves a POST: net/http, and
// httpfront's fast lane, where the 202 to a message is held until its
// calls are answered (messages.go).
var lanes = []struct {
	name  string
	front *httpfront.Options
}{{"net-http", nil}, {"fast-lane", &httpfront.Options{}}}

func goSDKSSEClient(t *testing.T, front *httpfront.Options) {
	e := newEnv(t, &envConfig{Advertise: toolsAdvertised, Front: front})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	progress := make(chan struct{}, 4)
	listChanged := make(chan struct{}, 1)
	client := sdk.NewClient(&sdk.Implementation{Name: "go-sse-client", Version: "1"}, &sdk.ClientOptions{
		ProgressNotificationHandler: func(context.Context, *sdk.ProgressNotificationClientRequest) { progress <- struct{}{} },
		ToolListChangedHandler: func(context.Context, *sdk.ToolListChangedRequest) {
			select {
			case listChanged <- struct{}{}:
			default:
			}
		},
	})
	cs, err := client.Connect(ctx, &sdk.SSEClientTransport{Endpoint: e.Srv.URL + "/sse"},
		&sdk.ClientSessionOptions{ProtocolVersion: mcp.Version20241105})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer cs.Close()
	if got := cs.InitializeResult().ProtocolVersion; got != mcp.Version20241105 {
		t.Errorf("negotiated %s, want %s", got, mcp.Version20241105)
	}
	if err := cs.Ping(ctx, nil); err != nil {
		t.Fatalf("ping: %v", err)
	}
	for _, tool := range []string{"hello", "slow"} {
		params := &sdk.CallToolParams{Name: tool}
		params.SetProgressToken("p-" + tool)
		res, err := cs.CallTool(ctx, params)
		if err != nil {
			t.Fatalf("%s: %v", tool, err)
		}
		if got := res.Content[0].(*sdk.TextContent).Text; got != tool {
			t.Errorf("%s = %q", tool, got)
		}
	}
	// The client runs notification handlers on their own goroutines.
	select {
	case <-progress:
	case <-ctx.Done():
		t.Fatal("no progress notification from the slow tool")
	}
	if _, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "notify"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-listChanged:
	case <-ctx.Done():
		t.Fatal("no tools/list_changed on the stream")
	}
}

// TestTypeScriptSSEClient drives the transport with the official
// TypeScript SDK's SSEClientTransport, in a real node subprocess, at the
// revision the SDK asks for and at 2024-11-05.
func TestTypeScriptSSEClient(t *testing.T) {
	ts := mcpsessiontest.TypeScriptSDK(t)
	for _, v := range []string{mcp.Version20241105, ""} {
		for _, l := range lanes {
			name := v
			if name == "" {
				name = "sdk default"
			}
			t.Run(name+"/"+l.name, func(t *testing.T) { tsSSEClient(t, ts, v, l.front) })
		}
	}
}

func tsSSEClient(t *testing.T, ts *mcpsessiontest.TSClient, v string, front *httpfront.Options) {
	e := newEnv(t, &envConfig{Advertise: toolsAdvertised, Front: front})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	got := ts.Run(ctx, t, "sse", e.Srv.URL+"/sse", v)
	want := v
	if want == "" {
		want = mcp.Latest
	}
	// Progress is not checked here: the SDK's client runs notification
	// handlers a microtask after the events of one read, but handles
	// responses at once, so a progress notification that arrives in
	// the same read as its response finds its handler gone (the
	// SDK's own SSE server has the same race). The Go SDK client
	// checks progress on this transport (TestGoSDKSSEClient).
	t.Logf("progress notifications seen by the TypeScript client: %d", got.Progress)
	if got.Version != want || got.Hello != "hello" || got.Slow != "slow" || !got.ListChanged {
		t.Errorf("TypeScript client saw %+v; want version %s, both tools, list_changed", got, want)
	}
	// The client closed its stream: its session is gone.
	if err := e.Hub.WaitIdle(t.Context()); err != nil {
		t.Fatal(err)
	}
	for e.Hub.Stats().Sessions != 0 {
		select {
		case <-ctx.Done():
			t.Fatalf("session still live after the client closed its stream")
		case <-time.After(10 * time.Millisecond): // the server notices the closed connection asynchronously
		}
	}
}
