package authserver

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/mcpgate/mcpgate/internal/bearer"
)

// TestTokenAttacks: each case gets a fresh code and tries to misuse it.
func TestTokenAttacks(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	reg := registerClient(t, h, `{"redirect_uris":["`+testRedirect+`"],"token_endpoint_auth_method":"none","client_name":"other"}`)
	other := reg["client_id"].(string)
	tests := []struct {
		name     string
		tamper   func(f url.Values)
		wantCode string
	}{
		{"wrong PKCE verifier", func(f url.Values) { f.Set("code_verifier", oauth2.GenerateVerifier()) }, "invalid_grant"},
		{"missing PKCE verifier", func(f url.Values) { f.Del("code_verifier") }, "invalid_grant"},
		{"short PKCE verifier", func(f url.Values) { f.Set("code_verifier", "abc") }, "invalid_grant"},
		{"redirect_uri mismatch", func(f url.Values) { f.Set("redirect_uri", testRedirect+"/x") }, "invalid_grant"},
		{"redirect_uri prefix", func(f url.Values) { f.Set("redirect_uri", "http://127.0.0.1:9/c") }, "invalid_grant"},
		{"another client's code", func(f url.Values) { f.Set("client_id", other) }, "invalid_grant"},
		{"unknown client", func(f url.Values) { f.Set("client_id", "nobody") }, "invalid_client"},
		{"other resource", func(f url.Values) { f.Set("resource", "https://evil.example/mcp") }, "invalid_target"},
		{"unknown code", func(f url.Values) { f.Set("code", "x"+f.Get("code")) }, "invalid_grant"},
		{"repeated parameter", func(f url.Values) { f.Add("code", "again") }, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verifier := oauth2.GenerateVerifier()
			code := h.code("static-client", verifier, "alice")
			f := url.Values{"grant_type": {"authorization_code"}, "client_id": {"static-client"}, "code": {code},
				"code_verifier": {verifier}, "redirect_uri": {testRedirect}}
			tt.tamper(f)
			status, e := h.post("/token", f)
			if e["error"] != tt.wantCode || status >= 500 {
				t.Errorf("got %d %v, want error %s", status, e, tt.wantCode)
			}
		})
	}
	t.Run("missing resource gets the default", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		code := h.code("static-client", verifier, "alice")
		status, tok := h.post("/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {"static-client"},
			"code": {code}, "code_verifier": {verifier}})
		if _, ok := h.verify(tok["access_token"]); status != 200 || !ok {
			t.Errorf("got %d %v", status, tok)
		}
	})
	t.Run("code replay revokes the tokens", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		code := h.code("static-client", verifier, "alice")
		status, tok := h.redeem("static-client", code, verifier)
		if status != 200 {
			t.Fatalf("first redemption: %d %v", status, tok)
		}
		status, e := h.redeem("static-client", code, verifier)
		if status != 400 || e["error"] != "invalid_grant" {
			t.Errorf("replay: got %d %v, want invalid_grant", status, e)
		}
		if _, ok := h.verify(tok["access_token"]); ok {
			t.Error("access token still valid after its code was replayed")
		}
	})
	t.Run("another client's refresh token", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		_, tok := h.redeem("static-client", h.code("static-client", verifier, "alice"), verifier)
		if status, e := h.refresh(other, tok["refresh_token"].(string)); status != 400 || e["error"] != "invalid_grant" {
			t.Errorf("refresh by another client: got %d %v, want invalid_grant", status, e)
		}
		// Its owner can still use it: the attempt did not burn it.
		if status, e := h.refresh("static-client", tok["refresh_token"].(string)); status != 200 {
			t.Errorf("refresh by its owner after the attempt: got %d %v", status, e)
		}
	})
	t.Run("wrong audience", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		_, tok := h.redeem("static-client", h.code("static-client", verifier, "alice"), verifier)
		// Another resource server sharing the store refuses the token.
		_, err := h.as.VerifyAccessToken(context.Background(), tok["access_token"].(string), "https://other.example/mcp")
		if !errors.Is(err, bearer.ErrInvalidCredential) {
			t.Errorf("token for %s accepted by another resource: %v", h.as.Resource(), err)
		}
		// A refresh token is not an access token.
		if _, ok := h.verify(tok["refresh_token"]); ok {
			t.Error("refresh token accepted as access token")
		}
	})
}

// TestAuthorizeValidation: requests that must not reach the upstream.
func TestAuthorizeValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	v := oauth2.GenerateVerifier()
	tests := []struct {
		name      string
		extra     url.Values
		wantPage  int    // an error page, no redirect
		wantError string // an error redirect to the client
	}{
		{name: "unknown client", extra: url.Values{"client_id": {"nobody"}}, wantPage: 400},
		{name: "missing client", extra: url.Values{"client_id": {"-"}}, wantPage: 400},
		{name: "unregistered redirect", extra: url.Values{"redirect_uri": {"https://evil.example/cb"}}, wantPage: 400},
		{name: "redirect with extra path", extra: url.Values{"redirect_uri": {testRedirect + "/x"}}, wantPage: 400},
		{name: "redirect with query", extra: url.Values{"redirect_uri": {testRedirect + "?a=b"}}, wantPage: 400},
		{name: "redirect case changed", extra: url.Values{"redirect_uri": {strings.ToUpper(testRedirect)}}, wantPage: 400},
		{name: "repeated parameter", extra: url.Values{"state": {"a", "b"}}, wantPage: 400},
		{name: "plain PKCE", extra: url.Values{"code_challenge_method": {"plain"}}, wantError: "invalid_request"},
		{name: "no PKCE method", extra: url.Values{"code_challenge_method": {"-"}}, wantError: "invalid_request"},
		{name: "no PKCE", extra: url.Values{"code_challenge": {"-"}}, wantError: "invalid_request"},
		{name: "bad challenge", extra: url.Values{"code_challenge": {"short"}}, wantError: "invalid_request"},
		{name: "token response type", extra: url.Values{"response_type": {"token"}}, wantError: "unsupported_response_type"},
		{name: "other resource", extra: url.Values{"resource": {"https://evil.example/mcp"}}, wantError: "invalid_target"},
		{name: "valid", wantPage: 200},
		{name: "valid without resource and redirect", extra: url.Values{"resource": {"-"}, "redirect_uri": {"-"}}, wantPage: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := newBrowser(t).Get(h.authorizeURL("static-client", v, tt.extra))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tt.wantPage != 0 {
				if resp.StatusCode != tt.wantPage || resp.Header.Get("Location") != "" {
					t.Errorf("got %d Location %q, want page %d: %s", resp.StatusCode, resp.Header.Get("Location"), tt.wantPage, body)
				}
				return
			}
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc.String(), testRedirect+"?") ||
				loc.Query().Get("error") != tt.wantError || loc.Query().Get("state") != "client-state" || loc.Query().Get("iss") != h.srv.URL {
				t.Errorf("got %d %s, want redirect with error %s, state and iss", resp.StatusCode, loc, tt.wantError)
			}
		})
	}
}

// TestConsentAttacks: the consent form only works from the browser that
// loaded it, with its CSRF token, once.
func TestConsentAttacks(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	v := oauth2.GenerateVerifier()
	tests := []struct {
		name       string
		tamper     func(f url.Values) *http.Client // returns the browser to post with, nil for the same
		wantStatus int
		wantError  string
	}{
		{"wrong CSRF token", func(f url.Values) *http.Client { f.Set("csrf", "forged"); return nil }, 403, ""},
		{"no CSRF token", func(f url.Values) *http.Client { f.Del("csrf"); return nil }, 403, ""},
		{"another browser", func(url.Values) *http.Client { return newBrowser(t) }, 403, ""},
		{"unknown request", func(f url.Values) *http.Client { f.Set("id", "nope"); return nil }, 400, ""},
		{"deny", func(f url.Values) *http.Client { f.Set("action", "deny"); return nil }, 302, "access_denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t)
			f := h.consent(b, h.authorizeURL("static-client", v, nil))
			f.Set("action", "approve")
			poster := b
			if nb := tt.tamper(f); nb != nil {
				poster = nb
			}
			resp, err := poster.PostForm(h.srv.URL+"/authorize", f)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("got %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if tt.wantError != "" {
				loc, _ := url.Parse(resp.Header.Get("Location"))
				if loc.Query().Get("error") != tt.wantError || loc.Query().Get("iss") != h.srv.URL {
					t.Errorf("redirect %s, want error %s", loc, tt.wantError)
				}
			}
		})
	}
	t.Run("consent used twice", func(t *testing.T) {
		b := newBrowser(t)
		f := h.consent(b, h.authorizeURL("static-client", v, nil))
		f.Set("action", "approve")
		for i, want := range []int{302, 400} {
			resp, err := b.PostForm(h.srv.URL+"/authorize", f)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("post %d: got %d, want %d", i, resp.StatusCode, want)
			}
		}
	})
	t.Run("upstream refusal reaches the client", func(t *testing.T) {
		b := newBrowser(t)
		f := h.consent(b, h.authorizeURL("static-client", v, nil))
		f.Set("action", "approve")
		resp, err := b.PostForm(h.srv.URL+"/authorize", f)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		up, _ := url.Parse(resp.Header.Get("Location"))
		cb := h.srv.URL + "/callback?" + url.Values{"state": {up.Query().Get("state")}, "error": {"access_denied"}}.Encode()
		resp, err = b.Get(cb)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != 302 || loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "client-state" {
			t.Errorf("got %d %s, want access_denied redirect", resp.StatusCode, loc)
		}
		// The state was single-use.
		resp, err = b.Get(cb)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("callback replay: got %d, want 400", resp.StatusCode)
		}
	})
}
