package bearer

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/principal"
)

// fakeVerifier accepts one token for one resource.
type fakeVerifier struct{ token, resource string }

func (f fakeVerifier) VerifyAccessToken(_ context.Context, tok, resource string) (principal.Principal, error) {
	switch {
	case tok == "boom":
		return principal.Principal{}, errors.New("store down")
	case tok != f.token || resource != f.resource:
		return principal.Principal{}, ErrInvalidCredential
	}
	return principal.Principal{Issuer: "https://idp.example", Subject: "alice", Name: "alice@example.com", Role: principal.RoleUser, Scopes: []string{"mcp"}}, nil
}

func TestOAuthMiddleware(t *testing.T) {
	const (
		prm      = "https://gw.example/.well-known/oauth-protected-resource/mcp"
		resource = "https://gw.example/mcp"
	)
	a, err := NewOAuth(OAuthOptions{Verifier: fakeVerifier{token: "mcpgate_at_good", resource: resource}, Resource: resource})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewOAuth(OAuthOptions{Verifier: fakeVerifier{token: "mcpgate_at_good", resource: resource}, Resource: "https://other.example/mcp"})
	tests := []struct {
		name       string
		a          Authenticator
		header     string
		wantStatus int
		wantChall  string
	}{
		{"valid", a, "Bearer mcpgate_at_good", 200, ""},
		{"missing", a, "", 401, `Bearer realm="mcpgate", resource_metadata="` + prm + `", scope="mcp"`},
		{"unknown", a, "Bearer mcpgate_at_bad", 401, `Bearer realm="mcpgate", error="invalid_token", resource_metadata="` + prm + `", scope="mcp"`},
		{"other audience", other, "Bearer mcpgate_at_good", 401, `Bearer realm="mcpgate", error="invalid_token", resource_metadata="` + prm + `", scope="mcp"`},
		{"malformed", a, "Bearer ", 400, `Bearer realm="mcpgate", error="invalid_request", resource_metadata="` + prm + `"`},
		{"verifier failure", a, "Bearer boom", 503, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Middleware(tt.a, &MiddlewareOptions{ResourceMetadata: prm, Scope: "mcp"})(echoPrincipal)
			req := httptest.NewRequest("POST", "/mcp", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			body, _ := io.ReadAll(w.Body)
			if w.Code != tt.wantStatus {
				t.Fatalf("status: got %d, want %d (%s)", w.Code, tt.wantStatus, body)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.wantChall {
				t.Errorf("WWW-Authenticate: got %q, want %q", got, tt.wantChall)
			}
			if tt.wantStatus == http.StatusOK && !strings.Contains(string(body), `"subject":"alice"`) {
				t.Errorf("principal not passed on: %s", body)
			}
			if tt.wantStatus == http.StatusUnauthorized && !strings.Contains(string(body), "resource_metadata") {
				t.Errorf("401 body does not say how to authenticate: %s", body)
			}
		})
	}
	if _, err := NewOAuth(OAuthOptions{Resource: resource}); err == nil {
		t.Error("NewOAuth without a verifier: no error")
	}
}

// TestInsufficientScope: an authenticated principal without a required
// scope gets 403 with an insufficient_scope challenge (step-up).
func TestInsufficientScope(t *testing.T) {
	const prm = "https://gw.example/.well-known/oauth-protected-resource/mcp"
	a, _ := NewOAuth(OAuthOptions{Verifier: fakeVerifier{token: "mcpgate_at_good", resource: "r"}, Resource: "r"})
	for _, tt := range []struct {
		name       string
		required   []string
		wantStatus int
		wantChall  string
	}{
		{"none required", nil, 200, ""},
		{"scope held", []string{"mcp"}, 200, ""},
		{"missing scope", []string{"mcp:admin"}, 403, `Bearer realm="mcpgate", error="insufficient_scope", resource_metadata="` + prm + `", scope="mcp:admin"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := Middleware(a, &MiddlewareOptions{ResourceMetadata: prm, Scope: "mcp", RequiredScopes: tt.required})(echoPrincipal)
			req := httptest.NewRequest("POST", "/mcp", nil)
			req.Header.Set("Authorization", "Bearer mcpgate_at_good")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tt.wantStatus || w.Header().Get("WWW-Authenticate") != tt.wantChall {
				t.Errorf("got %d %q, want %d %q", w.Code, w.Header().Get("WWW-Authenticate"), tt.wantStatus, tt.wantChall)
			}
		})
	}
}
