package mcpsessiontest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// dir is this package's directory, where testdata/tsclient.cjs lives.
func dir(tb testing.TB) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("locating mcpsessiontest: no caller information")
	}
	return filepath.Dir(file)
}

// InteropModules is the directory of the interop npm packages (npm ci in
// interop/).
func InteropModules(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(dir(tb), "..", "..", "..", "interop", "node_modules")
}

// TSClient runs testdata/tsclient.cjs, a client built on the official
// TypeScript SDK, in a node subprocess.
type TSClient struct {
	node, modules string
}

// TSReport is what the TypeScript client observed: the negotiated
// version, its session (Streamable HTTP), the text of tools hello and
// slow, how many progress notifications slow brought, and whether
// tools/list_changed came after calling notify.
type TSReport struct {
	Version     string
	SessionID   string
	Hello, Slow string
	Progress    int
	ListChanged bool
}

// TypeScriptSDK finds node on PATH and the TypeScript SDK among the
// interop modules, skipping the test when either is missing
// (SkipUnlessCI).
func TypeScriptSDK(t *testing.T) *TSClient {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		SkipUnlessCI(t, "node not installed")
	}
	modules := InteropModules(t)
	if _, err := os.Stat(filepath.Join(modules, "@modelcontextprotocol/sdk/package.json")); err != nil {
		SkipUnlessCI(t, "TypeScript SDK not installed (npm ci in interop/)")
	}
	return &TSClient{node: node, modules: modules}
}

// Run connects over transport ("sse" for 2024-11-05 HTTP+SSE,
// "streamable" for Streamable HTTP) to url, asking for version ("" the
// SDK's latest), calls ping and the tools hello, slow and notify, then
// ends its session and reports. Its stderr goes to the test log.
func (c *TSClient) Run(ctx context.Context, t *testing.T, transport, url, version string) TSReport {
	t.Helper()
	cmd := exec.CommandContext(ctx, c.node, filepath.Join(dir(t), "testdata", "tsclient.cjs"), transport, url, version)
	cmd.Env = append(os.Environ(), "NODE_PATH="+c.modules)
	cmd.Stderr = logWriter{t}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("TypeScript client: %v", err)
	}
	var r TSReport
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("client output %q: %v", out, err)
	}
	return r
}

// logWriter writes what a subprocess prints into the test log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Logf("client: %s", p)
	return len(p), nil
}

// SkipUnlessCI skips a test whose third-party parts are missing on a
// developer's machine; under CI (CI set) a missing part is a failure, so a
// skipped test never passes for a run test.
func SkipUnlessCI(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if os.Getenv("CI") != "" {
		tb.Fatalf(format, args...)
	}
	tb.Skipf(format, args...)
}
