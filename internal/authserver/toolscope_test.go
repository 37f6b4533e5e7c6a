package authserver

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpgate/mcpgate/internal/principal"
)

func TestToolScopesRequired(t *testing.T) {
	ts, err := NewToolScopes(map[string][]string{"demo__*": {"demo"}, "demo__admin_*": {"admin", "demo"}, "other__x": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	for tool, want := range map[string][]string{
		"demo__echo":      {"demo"},
		"demo__admin_del": {"admin", "demo"},
		"other__x":        {"x"},
		"other__y":        nil,
		"demo":            nil,
	} {
		if got := ts.Required(tool); !cmp.Equal(got, want) {
			t.Errorf("Required(%q): got %v, want %v", tool, got, want)
		}
	}
	for _, bad := range []map[string][]string{{"[": {"a"}}, {"x": nil}, {"": {"a"}}} {
		if _, err := NewToolScopes(bad); err == nil {
			t.Errorf("NewToolScopes(%v): no error", bad)
		}
	}
}

// TestToolScopesMiddleware: a tools/call of a scoped tool without its
// scope gets 403 with an insufficient_scope challenge carrying the
// granted plus the needed scopes; everything else reaches the handler
// with its body intact.
func TestToolScopesMiddleware(t *testing.T) {
	ts, _ := NewToolScopes(map[string][]string{"demo__admin_*": {"admin"}})
	h := ts.Middleware(&ToolScopeOptions{ResourceMetadata: "https://gw/.well-known/oauth-protected-resource/mcp"})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			w.Write(b)
		}))
	call := func(name string) string {
		return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + name + `"}}`
	}
	tests := []struct {
		name, body string
		scopes     []string
		wantStatus int
		wantScope  string
	}{
		{"unscoped tool", call("demo__echo"), []string{"mcp"}, 200, ""},
		{"scoped tool without scope", call("demo__admin_reset"), []string{"mcp"}, 403, "mcp admin"},
		{"scoped tool with scope", call("demo__admin_reset"), []string{"mcp", "admin"}, 200, ""},
		{"in a batch", `[` + call("demo__echo") + `,` + call("demo__admin_x") + `]`, []string{"mcp"}, 403, "mcp admin"},
		{"list", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, nil, 200, ""},
		{"name mentions tools/call", `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"tools/call"}}`, nil, 200, ""},
		{"malformed", `{"method":"tools/call",`, nil, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/mcp", strings.NewReader(tt.body))
			req = req.WithContext(principal.NewContext(req.Context(), principal.Principal{Subject: "u", Scopes: tt.scopes}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("got %d, want %d", rec.Code, tt.wantStatus)
			}
			if tt.wantStatus == 200 {
				if rec.Body.String() != tt.body {
					t.Errorf("body reached the handler as %q", rec.Body.String())
				}
				return
			}
			ch := rec.Header().Get("WWW-Authenticate")
			for _, want := range []string{`error="insufficient_scope"`, `scope="` + tt.wantScope + `"`, `resource_metadata="https://gw/`} {
				if !strings.Contains(ch, want) {
					t.Errorf("challenge %q lacks %s", ch, want)
				}
			}
		})
	}
}
