package streamable

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/internal/mcp"
)

// TestSDKClient drives the handler with the official Go SDK's Streamable
// HTTP client, an independent implementation, at each protocol revision.
func TestSDKClient(t *testing.T) {
	for _, v := range []string{"", mcp.Version20251125, mcp.Version20250618, mcp.Version20250326} {
		name := v
		if name == "" {
			name = "default (falls back from 2026-07-28)"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, &envConfig{Advertise: map[string]any{"tools": map[string]any{"listChanged": true}}})
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()

			var progress atomic.Int32
			gotProgress := make(chan struct{}, 1)
			listChanged := make(chan struct{}, 1)
			client := sdk.NewClient(&sdk.Implementation{Name: "sdk-client", Version: "1"}, &sdk.ClientOptions{
				ProgressNotificationHandler: func(context.Context, *sdk.ProgressNotificationClientRequest) {
					progress.Add(1)
					gotProgress <- struct{}{}
				},
				ToolListChangedHandler: func(context.Context, *sdk.ToolListChangedRequest) {
					select {
					case listChanged <- struct{}{}:
					default:
					}
				},
			})
			cs, err := client.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: e.Srv.URL + "/mcp", MaxRetries: -1},
				&sdk.ClientSessionOptions{ProtocolVersion: v})
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			want := v
			if want == "" {
				want = mcp.Version20251125
			}
			if got := cs.InitializeResult().ProtocolVersion; got != want {
				t.Errorf("negotiated %q, want %q", got, want)
			}
			if err := cs.Ping(ctx, nil); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			for _, tool := range []string{"hello", "slow"} {
				params := &sdk.CallToolParams{Name: tool}
				params.SetProgressToken("p-" + tool)
				res, err := cs.CallTool(ctx, params)
				if err != nil {
					t.Fatalf("CallTool %s: %v", tool, err)
				}
				if len(res.Content) != 1 || res.Content[0].(*sdk.TextContent).Text != tool {
					t.Errorf("CallTool %s: %+v", tool, res.Content)
				}
			}
			select { // the SDK handles notifications asynchronously
			case <-gotProgress:
			case <-ctx.Done():
				t.Fatal("the progress notification never reached the client")
			}
			if got := progress.Load(); got != 1 {
				t.Errorf("progress notifications received: %d, want 1", got)
			}
			// A notification on the standalone stream reaches the client's GET.
			if _, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "notify"}); err != nil {
				t.Fatalf("CallTool notify: %v", err)
			}
			select {
			case <-listChanged:
			case <-ctx.Done():
				t.Fatal("tools/list_changed never reached the client")
			}
			if err := cs.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if n, _ := e.Mgr.Count(t.Context()); n != 0 {
				t.Errorf("sessions after the client closed: %d, want 0 (DELETE)", n)
			}
		})
	}
}
