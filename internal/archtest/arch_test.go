package archtest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

type pkg struct {
	ImportPath string
	Doc        string
	Imports    []string
	Name       string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "github.com/mcpgate/mcpgate/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []pkg
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestPackageDocs: every package says what it owns.
func TestPackageDocs(t *testing.T) {
	for _, p := range listPackages(t) {
		if p.Name == "main" {
			continue
		}
		if !strings.HasPrefix(p.Doc, "Package "+p.Name+" ") {
			t.Errorf("%s: package doc must start with %q, got %q", p.ImportPath, "Package "+p.Name+" ", p.Doc)
		}
	}
}

// TestForbiddenImports keeps layers apart.
func TestForbiddenImports(t *testing.T) {
	const mod = "github.com/mcpgate/mcpgate/internal/"
	forbidden := map[string][]string{
		// The MCP core has no HTTP: transports own the wire.
		mod + "relay": {"net/http", mod + "streamable", mod + "ssetransport", mod + "httpkit"},
		// Protocol facts and framing do no I/O.
		mod + "jsonrpc": {"net/http", "os/exec", "net"},
		mod + "mcp":     {"net/http", "os/exec", "net"},
		// Upstreams know nothing of client sessions or transports.
		mod + "upstream":       {mod + "relay", mod + "session", mod + "streamable"},
		mod + "upstream/stdio": {mod + "relay", mod + "session", mod + "streamable"},
		// Transports never reach upstreams directly, and share the session
		// core instead of each other: one core, two wire formats.
		mod + "streamable":   {mod + "upstream", mod + "upstream/stdio", mod + "ssetransport"},
		mod + "ssetransport": {mod + "upstream", mod + "upstream/stdio", mod + "streamable"},
		// The session core knows no transport and no upstream.
		mod + "mcpsession": {mod + "upstream", mod + "upstream/stdio", mod + "streamable", mod + "ssetransport"},
		// The HTTP front serves bytes: which requests are hot is its
		// caller's decision.
		mod + "httpfront": {mod + "jsonrpc", mod + "mcp", mod + "mcpsession", mod + "streamable", mod + "ssetransport", mod + "relay", mod + "gateway"},
		// SSE framing knows nothing of MCP.
		mod + "sse": {mod + "jsonrpc", mod + "mcp", mod + "mcpsession", mod + "eventlog"},
		// The admin API sees sessions through the core's views only.
		mod + "admin": {mod + "relay", mod + "upstream", mod + "streamable", mod + "ssetransport", mod + "session"},
		// The demo server is an ordinary MCP server: no gateway internals.
		// Its HTTP server (httpserve.go) is served directly, not through
		// the gateway's transport or session core.
		mod + "demo": {mod + "relay", mod + "upstream", mod + "streamable", mod + "session", mod + "mcpsession", mod + "ssetransport"},
	}
	for _, p := range listPackages(t) {
		for _, imp := range p.Imports {
			for _, bad := range forbidden[p.ImportPath] {
				if imp == bad {
					t.Errorf("%s must not import %s", p.ImportPath, imp)
				}
			}
			// Only the Redis store speaks Redis: everyone else sees the
			// authserver.Store interface and its sentinel errors.
			if strings.HasPrefix(imp, "github.com/redis/go-redis") && p.ImportPath != mod+"store/redis" {
				t.Errorf("%s imports go-redis outside internal/store/redis", p.ImportPath)
			}
			// The Go SDK is for tests only: never on the request path.
			// Test-helper packages (named …test, e.g. remotetest) may use
			// it, since only tests import them (checked next).
			if strings.HasPrefix(imp, "github.com/modelcontextprotocol/go-sdk") && !isTestHelper(p.ImportPath) {
				t.Errorf("%s imports the Go SDK outside tests", p.ImportPath)
			}
			if strings.HasPrefix(imp, mod) && isTestHelper(imp) && !isTestHelper(p.ImportPath) {
				t.Errorf("%s imports the test helper %s outside tests", p.ImportPath, imp)
			}
		}
	}
}

// isTestHelper reports whether a package is a test helper: its last path
// element ends in "test" (mcpsessiontest, remotetest, oidctest, …).
func isTestHelper(importPath string) bool {
	return strings.HasSuffix(importPath[strings.LastIndexByte(importPath, '/')+1:], "test")
}
