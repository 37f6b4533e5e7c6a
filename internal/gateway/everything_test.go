package gateway

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// everythingEntry is the third-party server-everything's entry point,
// installed from interop/package-lock.json by scripts/interop-setup.sh.
func everythingEntry(t *testing.T) (node, entry string) {
	t.Helper()
	entry = filepath.Join(repoRoot, "interop", "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js")
	if _, err := os.Stat(entry); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("server-everything is not installed (%v): run scripts/interop-setup.sh", err)
		}
		t.Skipf("server-everything is not installed; run scripts/interop-setup.sh")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node not found: %v", err)
	}
	return node, entry
}

// TestServerEverythingBehindGateway: the third-party reference server and
// the demo server behind one endpoint, with namespaced names, called
// through the gateway by the Go SDK client.
func TestServerEverythingBehindGateway(t *testing.T) {
	node, entry := everythingEntry(t)
	cfg := parseConfig(t, `
upstreams:
  - name: demo
    command: DEMO
    args: [demo-server]
  - name: everything
    command: `+node+`
    args: [`+entry+`, stdio]
`)
	endpoint, _ := startGateway(t, cfg)
	cs := connectSDK(t, endpoint, "2025-11-25", nil, nil)
	ctx := context.Background()
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	for _, want := range []string{"demo__echo", "everything__echo", "everything__get-sum"} {
		if !slices.Contains(names, want) {
			t.Errorf("tools/list lacks %q: %v", want, names)
		}
	}
	callTools(t, cs, []toolCall{
		{"everything__echo", map[string]any{"message": "through the gateway"}, "through the gateway"},
		{"demo__echo", map[string]any{"message": "to the demo"}, "to the demo"},
		{"everything__get-sum", map[string]any{"a": 2, "b": 40}, "42"},
	})
	prompts, err := cs.ListPrompts(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var pnames []string
	for _, p := range prompts.Prompts {
		pnames = append(pnames, p.Name)
	}
	if !slices.ContainsFunc(pnames, func(n string) bool { return strings.HasPrefix(n, "everything__") }) ||
		!slices.ContainsFunc(pnames, func(n string) bool { return strings.HasPrefix(n, "demo__") }) {
		t.Errorf("prompts not merged from both upstreams: %v", pnames)
	}
}
