package httpkit

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCORS(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Mcp-Session-Id", "s1")
		w.WriteHeader(http.StatusTeapot)
	})
	mk := func(opts CORSOptions) *httptest.Server {
		c, err := NewCORS(opts)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(c.Handler(next))
		t.Cleanup(srv.Close)
		return srv
	}
	plain := mk(CORSOptions{AllowedOrigins: []string{"https://app.example.com", "http://localhost:6274"}})
	creds := mk(CORSOptions{AllowedOrigins: []string{"https://app.example.com"}, AllowCredentials: true})
	none := mk(CORSOptions{})

	type want struct {
		status      int
		allowOrigin string
		credentials string
		expose      bool
		preflight   bool
	}
	tests := []struct {
		name    string
		srv     *httptest.Server
		method  string
		headers map[string]string
		want    want
	}{
		{"no origin", plain, "POST", nil, want{status: 418}},
		{"allowed origin", plain, "POST", map[string]string{"Origin": "https://app.example.com"},
			want{status: 418, allowOrigin: "https://app.example.com", expose: true}},
		{"allowed origin, default port written", plain, "GET", map[string]string{"Origin": "https://APP.example.com:443"},
			want{status: 418, allowOrigin: "https://APP.example.com:443", expose: true}},
		{"loopback origin only when listed", plain, "POST", map[string]string{"Origin": "http://localhost:6274"},
			want{status: 418, allowOrigin: "http://localhost:6274", expose: true}},
		{"unlisted loopback origin", plain, "POST", map[string]string{"Origin": "http://localhost:3000"}, want{status: 418}},
		{"other origin passes unmarked", plain, "POST", map[string]string{"Origin": "https://evil.example"}, want{status: 418}},
		{"credentials", creds, "POST", map[string]string{"Origin": "https://app.example.com"},
			want{status: 418, allowOrigin: "https://app.example.com", credentials: "true", expose: true}},
		{"no origins configured", none, "POST", map[string]string{"Origin": "https://app.example.com"}, want{status: 418}},
		{"preflight", plain, "OPTIONS", map[string]string{"Origin": "https://app.example.com",
			"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type, authorization,mcp-session-id"},
			want{status: 204, allowOrigin: "https://app.example.com", preflight: true}},
		{"preflight with credentials", creds, "OPTIONS", map[string]string{"Origin": "https://app.example.com",
			"Access-Control-Request-Method": "DELETE"},
			want{status: 204, allowOrigin: "https://app.example.com", credentials: "true", preflight: true}},
		{"preflight from another origin", plain, "OPTIONS", map[string]string{"Origin": "https://evil.example",
			"Access-Control-Request-Method": "POST"}, want{status: 403}},
		{"preflight for another method", plain, "OPTIONS", map[string]string{"Origin": "https://app.example.com",
			"Access-Control-Request-Method": "PUT"}, want{status: 403}},
		{"preflight for another header", plain, "OPTIONS", map[string]string{"Origin": "https://app.example.com",
			"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type, x-evil"}, want{status: 403}},
		{"preflight with no origins configured", none, "OPTIONS", map[string]string{"Origin": "https://app.example.com",
			"Access-Control-Request-Method": "POST"}, want{status: 403}},
		{"plain OPTIONS is not a preflight", plain, "OPTIONS", map[string]string{"Origin": "https://app.example.com"},
			want{status: 418, allowOrigin: "https://app.example.com", expose: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, tt.srv.URL, nil)
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			h := resp.Header
			if resp.StatusCode != tt.want.status {
				t.Fatalf("status: got %d, want %d", resp.StatusCode, tt.want.status)
			}
			if got := h.Get("Access-Control-Allow-Origin"); got != tt.want.allowOrigin {
				t.Errorf("Access-Control-Allow-Origin: got %q, want %q", got, tt.want.allowOrigin)
			}
			if got := h.Get("Access-Control-Allow-Credentials"); got != tt.want.credentials {
				t.Errorf("Access-Control-Allow-Credentials: got %q, want %q", got, tt.want.credentials)
			}
			if h.Get("Access-Control-Allow-Origin") == "*" {
				t.Error("Access-Control-Allow-Origin: *")
			}
			expose := h.Get("Access-Control-Expose-Headers")
			if tt.want.expose != strings.Contains(expose, "Mcp-Session-Id") {
				t.Errorf("Access-Control-Expose-Headers: %q, want Mcp-Session-Id exposed = %v", expose, tt.want.expose)
			}
			if tt.want.preflight {
				if !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
					!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Mcp-Session-Id") || h.Get("Access-Control-Max-Age") != "600" {
					t.Errorf("preflight headers: %v", h)
				}
			}
			if tt.headers["Origin"] != "" && !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
				t.Errorf("no Vary: Origin: %v", h)
			}
		})
	}
}

func TestCORSHostileOrigins(t *testing.T) {
	c, err := NewCORS(CORSOptions{AllowedOrigins: []string{"https://app.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range corpus(t, "hostile_origins.txt") {
		if c.Allowed(o) {
			t.Errorf("hostile origin %q allowed", o)
		}
	}
}

func TestNewCORSRefuses(t *testing.T) {
	for _, o := range []string{"*", "null", "app.example.com", "https://app.example.com/path", "ftp://x"} {
		if _, err := NewCORS(CORSOptions{AllowedOrigins: []string{o}}); err == nil {
			t.Errorf("origin %q accepted", o)
		}
	}
}
