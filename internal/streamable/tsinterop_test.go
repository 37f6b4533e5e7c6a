package streamable

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/mcp"
)

// interopModules is where the interop npm packages are installed.
const interopModules = "../../interop/node_modules"

// TestTypeScriptClient drives the handler with the official TypeScript
// SDK's Streamable HTTP client, in a real node subprocess. It is skipped
// when node or the SDK is not installed (npm ci in interop/).
func TestTypeScriptClient(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		skipUnlessCI(t, "node not installed")
	}
	modules, err := filepath.Abs(interopModules)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(modules, "@modelcontextprotocol/sdk/package.json")); err != nil {
		skipUnlessCI(t, "TypeScript SDK not installed (npm ci in interop/)")
	}
	for _, v := range []string{"", mcp.Version20250618, mcp.Version20250326} {
		name := v
		if name == "" {
			name = "latest"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, &envConfig{advertise: map[string]any{"tools": map[string]any{"listChanged": true}}})
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, "testdata/tsclient.cjs", e.srv.URL+"/mcp", v)
			cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
			cmd.Stderr = &testWriter{t: t}
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("TypeScript client: %v", err)
			}
			var got struct {
				Version     string
				SessionID   string
				Hello, Slow string
				Progress    int
				ListChanged bool
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("client output %q: %v", out, err)
			}
			want := v
			if want == "" {
				want = mcp.Latest
			}
			if got.Version != want || got.SessionID == "" || got.Hello != "hello" || got.Slow != "slow" || got.Progress != 1 || !got.ListChanged {
				t.Errorf("TypeScript client saw %+v; want version %s, both tools, one progress, list_changed", got, want)
			}
			if n, _ := e.mgr.Count(t.Context()); n != 0 {
				t.Errorf("sessions after terminateSession: %d, want 0", n)
			}
		})
	}
}

// testWriter sends a subprocess's stderr to the test log.
type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Logf("client: %s", p)
	return len(p), nil
}

// skipUnlessCI skips a test whose third-party parts are missing on a
// developer's machine; under CI (CI set) a missing part is a failure, so a
// skipped test never passes for a run test.
func skipUnlessCI(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}
