package gateway

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/secret"
)

// TestPProfOnlyOnAdmin: with admin.pprof the profiles are on the admin
// listener, behind its token, and never on the public listener, with or
// without the admin token.
func TestPProfOnlyOnAdmin(t *testing.T) {
	digest, err := secret.HashToken(adminToken)
	if err != nil {
		t.Fatal(err)
	}
	cfg := parseConfig(t, demoOnly+"admin:\n  token: "+digest+"\n  pprof: true\n")
	if err := cfg.ResolveSecrets(config.SecretReader{}); err != nil {
		t.Fatal(err)
	}
	gw := startWith(t, cfg, nil)
	admin := startAdmin(t, gw.g)

	if status, body := adminDo(t, "GET", admin+"/debug/pprof/", ""); status != 200 || !strings.Contains(string(body), "goroutine") {
		t.Errorf("admin /debug/pprof/ = %d %.200s, want 200 with the index", status, body)
	}
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/pprof/cmdline"} {
		for _, auth := range []string{"", "Bearer " + adminToken} {
			req, _ := http.NewRequestWithContext(t.Context(), "GET", gw.base+path, nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 || strings.Contains(string(body), "goroutine") {
				t.Errorf("public %s (auth %t) = %d %.200s, want no profile", path, auth != "", resp.StatusCode, body)
			}
		}
	}
}
