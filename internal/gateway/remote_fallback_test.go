package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/upstream"
)

// TestRemoteFallbackSSE: an upstream configured as type http with
// fallback_sse whose URL is in fact a 2024-11-05 HTTP+SSE endpoint: the
// probe and the initialize POST are refused (4xx), the gateway falls back
// to GET on the same URL [T §Backwards Compatibility] and serves the
// server's tools. Against the gateway's own legacy /sse front and the
// third-party server-everything in its sse mode.
func TestRemoteFallbackSSE(t *testing.T) {
	cases := []struct {
		name     string
		url      func(t *testing.T) string
		tool     string
		args     map[string]any
		wantText string
	}{
		{"gateway legacy front", func(t *testing.T) string {
			return startWith(t, parseConfig(t, demoOnly), nil).base + "/sse"
		}, "echo", map[string]any{"message": "fell back"}, "fell back"},
		{"server-everything sse", func(t *testing.T) string {
			return startEverythingHTTP(t, "sse") + "/sse"
		}, "echo", map[string]any{"message": "fell back"}, "fell back"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			front := startWith(t, parseConfig(t, fmt.Sprintf(`
upstreams:
  - name: back
    type: http
    fallback_sse: true
    url: %s
`, c.url(t))), nil)
			conn, _ := front.g.pool.Get("back")
			info := conn.Info()
			if info == nil || info.Era != upstream.EraSession {
				t.Fatalf("upstream info %+v, want a session-era upstream", info)
			}
			cs := connectSDK(t, front.url, "2025-11-25", nil, nil)
			callTools(t, cs, []toolCall{{c.tool, c.args, c.wantText}})
			r := send(t, http.MethodGet, front.base+"/health", "", nil)
			var health struct{ Upstreams []upstream.Status }
			if err := json.Unmarshal(r.body, &health); err != nil || len(health.Upstreams) != 1 || health.Upstreams[0].State != upstream.StateReady {
				t.Errorf("health = %s (%v)", r.body, err)
			}
		})
	}
}

// TestRemoteNoFallbackSSE: without fallback_sse, the same URL is a start
// failure (retried with backoff), not a silent change of transport.
func TestRemoteNoFallbackSSE(t *testing.T) {
	back := startWith(t, parseConfig(t, demoOnly), nil)
	front := startWith(t, parseConfig(t, fmt.Sprintf("upstreams:\n  - name: back\n    type: http\n    url: %s/sse\n", back.base)), nil)
	conn, _ := front.g.pool.Get("back")
	if st := conn.State(); st == upstream.StateReady || conn.Info() != nil {
		t.Fatalf("state %s, info %+v: want an upstream that did not start", st, conn.Info())
	}
	// The supervisor records the failed start as it schedules the retry,
	// on its own goroutine: poll the status it reports.
	waitFor(t, "the refused POST as the upstream's last error", func() bool {
		return strings.Contains(conn.(upstream.StatusReporter).Status().LastError, "HTTP 405")
	})
}
