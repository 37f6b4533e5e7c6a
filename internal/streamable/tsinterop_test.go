package streamable

import (
	"context"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/mcpsession/mcpsessiontest"
)

// TestTypeScriptClient drives the handler with the official TypeScript
// SDK's Streamable HTTP client, in a real node subprocess. It is skipped
// when node or the SDK is not installed (npm ci in interop/).
func TestTypeScriptClient(t *testing.T) {
	ts := mcpsessiontest.TypeScriptSDK(t)
	for _, v := range []string{"", mcp.Version20250618, mcp.Version20250326} {
		name := v
		if name == "" {
			name = "latest"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, &envConfig{Advertise: map[string]any{"tools": map[string]any{"listChanged": true}}})
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			got := ts.Run(ctx, t, "streamable", e.Srv.URL+"/mcp", v)
			want := v
			if want == "" {
				want = mcp.Latest
			}
			if got.Version != want || got.SessionID == "" || got.Hello != "hello" || got.Slow != "slow" || got.Progress != 1 || !got.ListChanged {
				t.Errorf("TypeScript client saw %+v; want version %s, both tools, one progress, list_changed", got, want)
			}
			if n, _ := e.Mgr.Count(t.Context()); n != 0 {
				t.Errorf("sessions after terminateSession: %d, want 0", n)
			}
		})
	}
}
