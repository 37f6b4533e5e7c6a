package authserver

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func registerClient(t *testing.T, h *harness, body string) map[string]any {
	t.Helper()
	resp, err := http.Post(h.srv.URL+"/register", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: got %d %v", resp.StatusCode, m)
	}
	return m
}

func TestMetadata(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tests := []struct {
		path       string
		wantStatus int
		wantField  string // a field that must equal wantValue
		wantValue  string
	}{
		{"/.well-known/oauth-authorization-server", 200, "issuer", h.srv.URL},
		{"/.well-known/oauth-authorization-server/mcp", 200, "issuer", h.srv.URL},
		{"/.well-known/openid-configuration", 200, "issuer", h.srv.URL},
		{"/.well-known/openid-configuration/mcp", 200, "issuer", h.srv.URL},
		{"/mcp/.well-known/openid-configuration", 200, "token_endpoint", h.srv.URL + "/token"},
		{"/.well-known/oauth-protected-resource", 200, "resource", h.srv.URL + "/mcp"},
		{"/.well-known/oauth-protected-resource/mcp", 200, "resource", h.srv.URL + "/mcp"},
		{"/.well-known/oauth-protected-resource/other", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := http.Get(h.srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("got %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if tt.wantField == "" {
				return
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var m map[string]any
			json.NewDecoder(resp.Body).Decode(&m)
			if m[tt.wantField] != tt.wantValue {
				t.Errorf("%s: got %v, want %s", tt.wantField, m[tt.wantField], tt.wantValue)
			}
			if strings.Contains(tt.path, "protected-resource") {
				if as, _ := m["authorization_servers"].([]any); len(as) != 1 || as[0] != h.srv.URL {
					t.Errorf("authorization_servers: %v", m["authorization_servers"])
				}
				return
			}
			if c, _ := m["code_challenge_methods_supported"].([]any); len(c) != 1 || c[0] != "S256" {
				t.Errorf("code_challenge_methods_supported: %v, want [S256]", m["code_challenge_methods_supported"])
			}
			if m["authorization_response_iss_parameter_supported"] != true {
				t.Error("authorization_response_iss_parameter_supported is not true")
			}
		})
	}
	if got, want := h.as.ResourceMetadataURL(), h.srv.URL+"/.well-known/oauth-protected-resource/mcp"; got != want {
		t.Errorf("ResourceMetadataURL: got %s, want %s", got, want)
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantError  string
		wantType   string // application_type
		wantSecret bool
	}{
		{"public native loopback", `{"redirect_uris":["http://127.0.0.1:3000/cb"],"token_endpoint_auth_method":"none"}`, 201, "", "native", false},
		{"localhost", `{"redirect_uris":["http://localhost/cb"],"token_endpoint_auth_method":"none"}`, 201, "", "native", false},
		{"confidential web", `{"redirect_uris":["https://app.example/cb"],"client_name":"App"}`, 201, "", "web", true},
		{"explicit application_type", `{"redirect_uris":["https://app.example/cb"],"application_type":"native","token_endpoint_auth_method":"none"}`, 201, "", "native", false},
		{"http remote", `{"redirect_uris":["http://app.example/cb"]}`, 400, "invalid_redirect_uri", "", false},
		{"fragment", `{"redirect_uris":["https://app.example/cb#x"]}`, 400, "invalid_redirect_uri", "", false},
		{"relative", `{"redirect_uris":["/cb"]}`, 400, "invalid_redirect_uri", "", false},
		{"javascript", `{"redirect_uris":["javascript:alert(1)"]}`, 400, "invalid_redirect_uri", "", false},
		{"userinfo", `{"redirect_uris":["https://a@app.example/cb"]}`, 400, "invalid_redirect_uri", "", false},
		{"none", `{"redirect_uris":[]}`, 400, "invalid_redirect_uri", "", false},
		{"bad application_type", `{"redirect_uris":["https://app.example/cb"],"application_type":"browser"}`, 400, "invalid_client_metadata", "", false},
		{"implicit grant", `{"redirect_uris":["https://app.example/cb"],"grant_types":["implicit"]}`, 400, "invalid_client_metadata", "", false},
		{"token response", `{"redirect_uris":["https://app.example/cb"],"response_types":["token"]}`, 400, "invalid_client_metadata", "", false},
		{"bad auth method", `{"redirect_uris":["https://app.example/cb"],"token_endpoint_auth_method":"private_key_jwt"}`, 400, "invalid_client_metadata", "", false},
		{"not JSON", `redirect_uris=x`, 400, "invalid_client_metadata", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(h.srv.URL+"/register", "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var m map[string]any
			json.NewDecoder(resp.Body).Decode(&m)
			if resp.StatusCode != tt.wantStatus || tt.wantError != "" && m["error"] != tt.wantError {
				t.Fatalf("got %d %v, want %d %s", resp.StatusCode, m, tt.wantStatus, tt.wantError)
			}
			if tt.wantStatus != 201 {
				return
			}
			if m["application_type"] != tt.wantType || (m["client_secret"] != nil) != tt.wantSecret || m["client_id"] == "" {
				t.Errorf("registered: %v", m)
			}
			c, err := h.store.Client(t.Context(), m["client_id"].(string))
			if err != nil {
				t.Fatal(err)
			}
			if sec, _ := m["client_secret"].(string); sec != "" && strings.Contains(c.SecretHash, sec) {
				t.Error("the client secret is stored in the clear")
			}
		})
	}
}

// TestConfidentialClient: a registered confidential client must
// authenticate at the token endpoint.
func TestTokenEndpointErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	reg := registerClient(t, h, `{"redirect_uris":["`+testRedirect+`"]}`)
	id, sec := reg["client_id"].(string), reg["client_secret"].(string)
	tests := []struct {
		name       string
		form       url.Values
		basic      [2]string
		wantStatus int
		wantError  string
	}{
		{"no grant type", url.Values{"client_id": {"static-client"}}, [2]string{}, 400, "invalid_request"},
		{"implicit", url.Values{"client_id": {"static-client"}, "grant_type": {"implicit"}}, [2]string{}, 400, "unsupported_grant_type"},
		{"no code", url.Values{"client_id": {"static-client"}, "grant_type": {"authorization_code"}}, [2]string{}, 400, "invalid_request"},
		{"no refresh token", url.Values{"client_id": {"static-client"}, "grant_type": {"refresh_token"}}, [2]string{}, 400, "invalid_request"},
		{"unknown refresh token", url.Values{"client_id": {"static-client"}, "grant_type": {"refresh_token"}, "refresh_token": {"x"}}, [2]string{}, 400, "invalid_grant"},
		{"no client", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, [2]string{}, 401, "invalid_client"},
		{"confidential without secret", url.Values{"client_id": {id}, "grant_type": {"authorization_code"}, "code": {"x"}}, [2]string{}, 401, "invalid_client"},
		{"confidential wrong secret", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, [2]string{id, "wrong"}, 401, "invalid_client"},
		{"confidential basic", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, [2]string{id, sec}, 400, "invalid_grant"},
		{"confidential post", url.Values{"client_id": {id}, "client_secret": {sec}, "grant_type": {"authorization_code"}, "code": {"x"}}, [2]string{}, 400, "invalid_grant"},
		{"two auth methods", url.Values{"client_secret": {sec}, "grant_type": {"authorization_code"}, "code": {"x"}}, [2]string{id, sec}, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", h.srv.URL+"/token", strings.NewReader(tt.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.basic[0] != "" {
				req.SetBasicAuth(url.QueryEscape(tt.basic[0]), url.QueryEscape(tt.basic[1]))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var m map[string]any
			json.NewDecoder(resp.Body).Decode(&m)
			if resp.StatusCode != tt.wantStatus || m["error"] != tt.wantError {
				t.Errorf("got %d %v, want %d %s", resp.StatusCode, m, tt.wantStatus, tt.wantError)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
		})
	}
}

// TestCORS: the endpoints browser clients call answer preflights and carry
// Access-Control-Allow-Origin; the browser pages do not.
func TestCORS(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tests := []struct {
		method, path string
		wantStatus   int
		wantACAO     string
	}{
		{"OPTIONS", "/token", 204, "*"},
		{"OPTIONS", "/register", 204, "*"},
		{"OPTIONS", "/.well-known/oauth-authorization-server", 204, "*"},
		{"GET", "/.well-known/oauth-protected-resource/mcp", 200, "*"},
		{"POST", "/token", 401, "*"},
		{"GET", "/authorize", 400, ""},
		{"OPTIONS", "/authorize", 405, ""},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, h.srv.URL+tt.path, nil)
		req.Header.Set("Origin", "https://app.example")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.wantStatus || resp.Header.Get("Access-Control-Allow-Origin") != tt.wantACAO {
			t.Errorf("%s %s: got %d ACAO %q, want %d %q", tt.method, tt.path, resp.StatusCode,
				resp.Header.Get("Access-Control-Allow-Origin"), tt.wantStatus, tt.wantACAO)
		}
	}
}
