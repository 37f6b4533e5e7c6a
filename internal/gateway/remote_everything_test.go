package gateway

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// startEverythingHTTP runs the third-party server-everything in one of its
// HTTP modes ("streamableHttp" or "sse") on a free loopback port and
// returns its base URL once it accepts connections. The process is killed
// and reaped at the end of the test.
func startEverythingHTTP(t *testing.T, mode string) string {
	t.Helper()
	node, entry := everythingEntry(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // server-everything takes the port from $PORT
	cmd := exec.Command(node, entry, mode)
	cmd.Env = append(cmd.Environ(), "PORT="+strconv.Itoa(port))
	cmd.Stderr = testWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	waitFor(t, "server-everything "+mode+" to listen", func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return "http://" + addr
}

// TestServerEverythingOverHTTP: the third-party reference server, reached
// over its own Streamable HTTP and legacy SSE endpoints, behind the
// gateway; the Go SDK client calls its tools through both.
func TestServerEverythingOverHTTP(t *testing.T) {
	streamable := startEverythingHTTP(t, "streamableHttp")
	legacy := startEverythingHTTP(t, "sse")
	gw := startWith(t, parseConfig(t, fmt.Sprintf(`
upstreams:
  - name: evhttp
    type: http
    url: %s/mcp
  - name: evsse
    type: sse
    url: %s/sse
`, streamable, legacy)), nil)
	cs := connectSDK(t, gw.url, "2025-11-25", nil, nil)
	callTools(t, cs, []toolCall{
		{"evhttp__echo", map[string]any{"message": "over streamable http"}, "over streamable http"},
		{"evhttp__get-sum", map[string]any{"a": 2, "b": 40}, "42"},
		{"evsse__echo", map[string]any{"message": "over legacy sse"}, "over legacy sse"},
		{"evsse__get-sum", map[string]any{"a": 1, "b": 1}, "2"},
	})
}

// toolCall is one tools/call and a text its result must contain.
type toolCall struct {
	tool string
	args map[string]any
	want string
}

// callTools makes each call through cs and checks its result's text.
func callTools(t *testing.T, cs *mcp.ClientSession, calls []toolCall) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tc := range calls {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tc.tool, Arguments: tc.args})
		if err != nil {
			t.Errorf("%s: %v", tc.tool, err)
			continue
		}
		if got := textOf(t, res); res.IsError || !strings.Contains(got, tc.want) {
			t.Errorf("%s = %q (error %v), want it to contain %q", tc.tool, got, res.IsError, tc.want)
		}
	}
}
