package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mcpgate-cmd-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "mcpgate")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// TestBadConfigExits2 runs `mcpgate serve --config` on bad files: the
// command exits with status 2 and names every problem in one message.
func TestBadConfigExits2(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown key", `
listen: 127.0.0.1:0
bogus_key: 1
upstreams:
  - name: demo
    command: x
`, []string{"bogus_key"}},
		{"several bad values", `
upstreams:
  - name: Bad_Name
    command: x
  - name: dup
    command: y
  - name: dup
`, []string{"upstreams[0].name", "upstreams[2].name", "upstreams[2].command"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "bad.yaml")
			if err := os.WriteFile(file, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, "serve", "--config", file)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("exit = %v, want status 2; stderr:\n%s", err, stderr.String())
			}
			for _, want := range tc.want {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
				}
			}
		})
	}
}

func TestUnknownCommand(t *testing.T) {
	err := exec.Command(bin, "frobnicate").Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("exit = %v, want status 2", err)
	}
}

// TestDefaultRunServesDemoAndStopsGracefully runs bare `mcpgate` (on a free
// port through MCPGATE_LISTEN), checks /health and an MCP initialize, then
// sends SIGTERM and expects a clean exit with the demo upstream stopped.
func TestDefaultRunServesDemoAndStopsGracefully(t *testing.T) {
	cmd, base, stderr := startServing(t)
	resp, err := http.Get(base + "/health")
	if err != nil {
		t.Fatal(err)
	}
	var health struct {
		Status    string `json:"status"`
		Version   string `json:"version"`
		Sessions  struct{ Open, Limit int }
		Upstreams []struct {
			Name  string `json:"name"`
			State string `json:"state"`
			PID   int    `json:"pid"`
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&health); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if health.Status != "ok" || len(health.Upstreams) != 1 || health.Upstreams[0].Name != "demo" ||
		health.Upstreams[0].State != "ready" || health.Sessions.Limit == 0 {
		t.Fatalf("health = %+v", health)
	}
	demoPID := health.Upstreams[0].PID

	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	req, _ := http.NewRequest("POST", base+"/mcp", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Mcp-Session-Id") == "" {
		t.Fatalf("initialize: %s, session %q", resp.Status, resp.Header.Get("Mcp-Session-Id"))
	}

	stopGracefully(t, cmd, stderr)
	if demoPID > 0 {
		if err := syscall.Kill(demoPID, 0); err == nil {
			t.Errorf("demo upstream (pid %d) still running after shutdown", demoPID)
		}
	}
}
