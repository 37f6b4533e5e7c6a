package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/secret"
	redisstore "github.com/mcpgate/mcpgate/internal/store/redis"
	"github.com/mcpgate/mcpgate/internal/store/redis/redistest"
)

// TestOAuthResourceServer: with auth mode oauth the MCP endpoint wants the
// gateway's own access token, and says where to get one (RFC 9728 §5.1);
// the metadata documents are served. The upstream provider is not
// contacted until a user signs in.
func TestOAuthResourceServer(t *testing.T) {
	redisStore := "store: {type: redis, url: env:MCPGATE_TEST_REDIS_URL}\n    seal_key: env:MCPGATE_TEST_SEAL"
	for _, store := range []string{"", "store: {type: file, path: " + filepath.Join(t.TempDir(), "oauth.db") + "}", redisStore} {
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
			if store == redisStore {
				// Secrets as ResolveSecrets would have read them.
				url := redistest.Start(t)
				cfg.Auth.OAuth.Store.URLValue = secret.New(url)
				cfg.Auth.OAuth.SealKeyBytes = make([]byte, 32)
				defer func() {
					// The gateway keeps its state in that Redis.
					rc, err := redisstore.Dial(context.Background(), url, nil)
					if err != nil {
						t.Fatal(err)
					}
					defer rc.Close()
					if c, err := redisstore.NewOAuthStore(rc, nil).Client(context.Background(), "cli"); err != nil || !c.Static {
						t.Errorf("static client in redis: got %+v, %v", c, err)
					}
				}()
			}
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
