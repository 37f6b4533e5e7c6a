package gateway

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestOAuthTSClient: the official TypeScript SDK client (interop's
// @modelcontextprotocol/sdk) does its own OAuth against the gateway —
// 401, metadata discovery, dynamic registration, PKCE, consent and the
// upstream login at a real provider, code exchange — and then lists tools
// through it.
func TestOAuthTSClient(t *testing.T) {
	interop := filepath.Join(repoRoot, "interop")
	if _, err := os.Stat(filepath.Join(interop, "node_modules", "@modelcontextprotocol", "sdk")); err != nil {
		t.Skip("interop/node_modules is not installed (cd interop && npm ci)")
	}
	gw := startOAuthGateway(t)
	cmd := exec.Command("node", "testdata/ts-oauth-client.mjs")
	cmd.Env = append(os.Environ(), "MCP_URL="+gw.url, "INTEROP_DIR="+interop, "LOGIN_USER=alice")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "tools ") || strings.HasPrefix(string(out), "tools 0") {
		t.Fatalf("TS SDK client: %v\n%s", err, out)
	}
	if l := gw.logs.String(); !strings.Contains(l, `"client_name":"ts-sdk e2e"`) || !strings.Contains(l, `"sub":"alice"`) {
		t.Errorf("no registration or grant for the TS client in the log")
	}
}
