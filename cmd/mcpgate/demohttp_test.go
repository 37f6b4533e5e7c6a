package main

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDemoServerListen: `mcpgate demo-server --listen` refuses an address
// beyond loopback without the loud flag, and on loopback serves the demo
// over Streamable HTTP until SIGTERM, then exits 0.
func TestDemoServerListen(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0"} {
		cmd := exec.Command(bin, "demo-server", "--listen", addr)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != exitUsage || !strings.Contains(stderr.String(), "not a loopback address") {
			t.Errorf("--listen %s: %v, stderr %q; want exit %d refusing it", addr, err, stderr.String(), exitUsage)
		}
	}

	cmd := exec.Command(bin, "demo-server", "--listen", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // a no-op once it has exited
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		t.Fatalf("first line %q, %v", line, err)
	}
	go func() { done <- cmd.Wait() }()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", base+"/mcp", strings.NewReader(
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Mcp-Session-Id") == "" {
		t.Errorf("initialize = %d, session %q", resp.StatusCode, resp.Header.Get("Mcp-Session-Id"))
	}
	// A DNS-rebinding page reaches a loopback server under its own name.
	req, _ = http.NewRequestWithContext(t.Context(), "POST", base+"/mcp", strings.NewReader(`{}`))
	req.Host = "evil.example"
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign Host = %v, %v; want 403", resp, err)
	} else {
		resp.Body.Close()
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v, want 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
}
