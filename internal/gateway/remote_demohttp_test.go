//lint:file-ignore SA1019 sampling is deprecated by 2026-07-28 (SEP-2577) but clients and servers of every era still use it; the gateway relays it and these tests prove that.

package gateway

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// startDemoHTTP runs `mcpgate demo-server --listen 127.0.0.1:0` (with
// extra flags) as a real subprocess and returns its MCP endpoint; the
// test's end stops it with SIGTERM and checks it exits 0.
func startDemoHTTP(t *testing.T, extra ...string) string {
	t.Helper()
	cmd := exec.Command(mcpgateBin, append([]string{"demo-server", "--listen", "127.0.0.1:0"}, extra...)...)
	cmd.Stderr = testWriter{t}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("demo-server exit: %v", err)
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Error("demo-server did not stop on SIGTERM")
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		t.Fatalf("demo-server's first line = %q, %v", line, err)
	}
	return addr + "/mcp"
}

// TestRemoteDemoHTTP: mcpgate in front of the demo served directly over
// Streamable HTTP, as a remote type: http upstream, in both eras (the
// probe finds which; with one upstream, names are not prefixed): calls, progress and, in the session era, a sampling
// request travel through.
func TestRemoteDemoHTTP(t *testing.T) {
	for _, era := range []string{"legacy", "modern"} {
		t.Run(era, func(t *testing.T) {
			url := startDemoHTTP(t, "--era", era)
			front := startWith(t, parseConfig(t, fmt.Sprintf("upstreams:\n  - name: d\n    type: http\n    url: %s\n", url)), nil)
			progress := make(chan float64, 8)
			cs := connectSDK(t, front.url, "2025-11-25", &mcp.ClientOptions{
				CreateMessageHandler: func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
					return &mcp.CreateMessageResult{Model: "m", Role: "assistant", Content: &mcp.TextContent{Text: "sampled via HTTP"}}, nil
				},
				ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
					progress <- req.Params.Progress
				},
			}, nil)
			calls := []toolCall{{"echo", map[string]any{"message": "direct over http"}, "Echo: direct over http"}}
			if era == "legacy" {
				calls = append(calls, toolCall{"test_sampling", map[string]any{"prompt": "hi"}, "sampled via HTTP"})
			}
			callTools(t, cs, calls)

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			p := &mcp.CallToolParams{Name: "test_tool_with_progress", Arguments: map[string]any{}}
			p.SetProgressToken("tok")
			if _, err := cs.CallTool(ctx, p); err != nil {
				t.Fatalf("test_tool_with_progress: %v", err)
			}
			for i := range 3 {
				select {
				case got := <-progress:
					if got != float64(50*i) {
						t.Errorf("progress %d = %v", i, got)
					}
				case <-ctx.Done():
					t.Fatalf("progress %d did not come", i)
				}
			}
		})
	}
}
