package gateway

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestFrontLanes: through the gateway's front (as Run serves it), an SDK
// session's POSTs and its DELETE take the fast lane and its GET stream
// net/http's; with
// http.net_http_only every request is net/http's, and both serve the same
// session alike.
func TestFrontLanes(t *testing.T) {
	for _, netHTTPOnly := range []bool{false, true} {
		cfg := parseConfig(t, demoOnly)
		cfg.HTTP.NetHTTPOnly = netHTTPOnly
		gw := startWith(t, cfg, nil)
		session := connectSDK(t, gw.url, "2025-11-25", nil, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		for i := range 3 {
			res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": fmt.Sprint(i)}})
			if err != nil || res.IsError {
				t.Fatalf("net_http_only %v: call %d: %v %v", netHTTPOnly, i, err, res)
			}
		}
		cancel()
		before, _ := gw.front.Stats()
		if err := session.Close(); err != nil { // DELETE /mcp
			t.Fatalf("net_http_only %v: closing the session: %v", netHTTPOnly, err)
		}
		fast, handedOff := gw.front.Stats()
		if v, _ := gw.g.Metrics().Value("mcpgate_http_fast_lane_requests_total"); v != float64(fast) {
			t.Errorf("mcpgate_http_fast_lane_requests_total %v, want %d", v, fast)
		}
		if v, _ := gw.g.Metrics().Value("mcpgate_http_net_http_connections_total"); v != float64(handedOff) {
			t.Errorf("mcpgate_http_net_http_connections_total %v, want %d", v, handedOff)
		}
		if netHTTPOnly {
			if fast != 0 || handedOff == 0 {
				t.Errorf("net_http_only: fast %d, handed off %d; want 0 and some", fast, handedOff)
			}
			continue
		}
		// initialize, notifications/initialized and three calls at least,
		// then the DELETE; the SDK's standalone GET stream is net/http's.
		if before < 5 || fast != before+1 || handedOff == 0 {
			t.Errorf("fast %d before the DELETE and %d after, handed off %d; want ≥ 5, one more, and some", before, fast, handedOff)
		}
	}
}
