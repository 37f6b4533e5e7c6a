package admin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/secret"
)

// TestPProf: with Options.PProf the profiles answer with the admin token
// and 401 without it; without PProf they are 404 JSON like any unknown path.
func TestPProf(t *testing.T) {
	serve := func(pprof bool) string {
		h, err := New(&fakeSessions{}, Options{TokenDigest: secret.DigestOf(token), PProf: pprof})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv.URL
	}
	on, off := serve(true), serve(false)
	tests := []struct {
		name, base, path string
		auth             bool
		wantStatus       int
		wantType         string // Content-Type prefix
		wantBody         string // substring of the body
	}{
		{name: "index", base: on, path: "/debug/pprof/", auth: true, wantStatus: 200, wantType: "text/html", wantBody: "goroutine"},
		{name: "index without the token", base: on, path: "/debug/pprof/", wantStatus: 401, wantType: "application/json", wantBody: `"unauthorized"`},
		{name: "named profile", base: on, path: "/debug/pprof/goroutine?debug=1", auth: true, wantStatus: 200, wantType: "text/plain", wantBody: "goroutine profile:"},
		{name: "cpu profile", base: on, path: "/debug/pprof/profile?seconds=1", auth: true, wantStatus: 200, wantType: "application/octet-stream"},
		{name: "cpu profile without the token", base: on, path: "/debug/pprof/profile?seconds=1", wantStatus: 401, wantType: "application/json", wantBody: `"unauthorized"`},
		{name: "off", base: off, path: "/debug/pprof/", auth: true, wantStatus: 404, wantType: "application/json", wantBody: `"not_found"`},
		{name: "off, cpu profile", base: off, path: "/debug/pprof/profile?seconds=1", auth: true, wantStatus: 404, wantType: "application/json", wantBody: `"not_found"`},
		{name: "off, without the token", base: off, path: "/debug/pprof/", wantStatus: 401, wantType: "application/json", wantBody: `"unauthorized"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			auth := ""
			if tt.auth {
				auth = "Bearer " + token
			}
			resp, body := do(t, http.DefaultClient, "GET", tt.base+tt.path, auth, "", "", tt.wantStatus)
			if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, tt.wantType) {
				t.Errorf("Content-Type = %q, want %s…", got, tt.wantType)
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body %.200s lacks %q", body, tt.wantBody)
			}
			if strings.HasPrefix(tt.wantType, "application/json") && !json.Valid(body) {
				t.Errorf("error body is not JSON: %s", body)
			}
			if tt.wantStatus == 200 && len(body) == 0 {
				t.Error("empty profile")
			}
		})
	}
}
