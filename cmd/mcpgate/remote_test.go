package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestServeHTTPUpstream runs `mcpgate serve --http URL` in front of the Go
// SDK's Streamable HTTP server: /health shows the remote upstream ready,
// and SIGTERM stops the gateway cleanly, ending its upstream session with
// DELETE.
func TestServeHTTPUpstream(t *testing.T) {
	s := mcp.NewServer(&mcp.Implementation{Name: "remote", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "ping"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{}, nil, nil
	})
	deletes := make(chan struct{}, 4)
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			deletes <- struct{}{}
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()

	cmd, base, stderr := startServing(t, "serve", "--http", srv.URL)
	resp, err := http.Get(base + "/health")
	if err != nil {
		t.Fatal(err)
	}
	var health struct {
		Status    string
		Upstreams []struct{ Name, Transport, State string }
	}
	err = json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if health.Status != "ok" || len(health.Upstreams) != 1 || health.Upstreams[0].Transport != "http" || health.Upstreams[0].State != "ready" {
		t.Fatalf("health = %+v", health)
	}
	stopGracefully(t, cmd, stderr)
	select {
	case <-deletes:
	default:
		t.Error("the upstream session was not ended with DELETE")
	}
}

func TestServeHTTPBadURL(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--http", "ftp://example.com/mcp"},
		{"serve", "--http", "http://a/mcp", "--sse", "http://b/sse"},
	} {
		cmd := exec.Command(bin, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("%v: exit = %v, want status 2", args, err)
		}
		if !strings.Contains(stderr.String(), "mcpgate:") {
			t.Errorf("%v: stderr = %q", args, stderr.String())
		}
	}
}

// startServing runs mcpgate with args on a free loopback port
// (MCPGATE_LISTEN) and returns it with the base URL it printed, once it
// serves. The process is killed at the end of the test if still running.
func startServing(t *testing.T, args ...string) (cmd *exec.Cmd, base string, stderr *bytes.Buffer) {
	t.Helper()
	cmd = exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "MCPGATE_LISTEN=127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr = &bytes.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	urlRe := regexp.MustCompile(`serving MCP at (http://127\.0\.0\.1:\d+)/mcp`)
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if m := urlRe.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		t.Fatalf("no URL printed; stderr:\n%s", stderr.String())
	}
	go func() { // keep the pipe drained until the process exits
		for sc.Scan() {
		}
	}()
	return cmd, base, stderr
}

// stopGracefully sends SIGTERM and expects a clean exit within 20s.
func stopGracefully(t *testing.T, cmd *exec.Cmd, stderr *bytes.Buffer) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no exit 20s after SIGTERM; stderr:\n%s", stderr.String())
	}
}
