package gateway

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestOAuthResourceServer: with auth mode oauth the MCP endpoint wants the
// gateway's own access token, and says where to get one (RFC 9728 §5.1);
// the metadata documents are served. The upstream provider is not
// contacted until a user signs in.
func TestOAuthResourceServer(t *testing.T) {
	for _, store := range []string{"", "store: {type: file, path: " + filepath.Join(t.TempDir(), "oauth.db") + "}"} {
		t.Run("store "+store, func(t *testing.T) {
			cfg := parseConfig(t, `
auth:
  mode: oauth
  oauth:
    issuer: http://127.0.0.1:8080
    upstream: {issuer: "http://127.0.0.1:9", client_id: mcpgate}
    clients: [{client_id: cli, redirect_uris: ["http://127.0.0.1:3000/cb"]}]
    `+store+`
`+demoOnly)
			gw := startWith(t, cfg, nil)
			prm := "http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp"
			for _, tok := range []string{"", "mcpgate_at_unknown", "a-static-looking-token"} {
				req, _ := http.NewRequest("POST", gw.url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				if tok != "" {
					req.Header.Set("Authorization", "Bearer "+tok)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				ch := resp.Header.Get("WWW-Authenticate")
				if resp.StatusCode != 401 || !strings.Contains(ch, `resource_metadata="`+prm+`"`) || !strings.Contains(ch, `scope="mcp"`) {
					t.Errorf("token %q: got %d %q, want 401 with resource_metadata and scope", tok, resp.StatusCode, ch)
				}
			}
			for path, want := range map[string]string{
				"/.well-known/oauth-protected-resource/mcp": "http://127.0.0.1:8080/mcp",
				"/.well-known/oauth-protected-resource":     "http://127.0.0.1:8080/mcp",
				"/.well-known/oauth-authorization-server":   "http://127.0.0.1:8080",
				"/.well-known/openid-configuration":         "http://127.0.0.1:8080",
				"/mcp/.well-known/openid-configuration":     "http://127.0.0.1:8080",
			} {
				resp, err := http.Get(gw.base + path)
				if err != nil {
					t.Fatal(err)
				}
				var m map[string]any
				json.NewDecoder(resp.Body).Decode(&m)
				resp.Body.Close()
				if resp.StatusCode != 200 || (m["resource"] != want && m["issuer"] != want) {
					t.Errorf("%s: got %d %v", path, resp.StatusCode, m)
				}
			}
			// The token endpoint answers OAuth errors, not 500s.
			resp, err := http.PostForm(gw.base+"/token", map[string][]string{"grant_type": {"authorization_code"}, "client_id": {"cli"}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 400 {
				t.Errorf("/token without code: got %d, want 400", resp.StatusCode)
			}
		})
	}
}
