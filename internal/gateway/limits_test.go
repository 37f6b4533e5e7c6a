package gateway

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestSessionLimits: per user and global session limits refuse new
// sessions with 503 and Retry-After, and never evict a live one.
func TestSessionLimits(t *testing.T) {
	gw := startWith(t, staticConfig(t, "sessions: {max: 3, max_per_user: 2}"), nil)
	a1 := open(t, gw.url, withToken(aliceToken, ""))
	a2 := open(t, gw.url, withToken(aliceRotated, ""))
	steps := []struct {
		name  string
		token string
		want  int
	}{
		{"alice's third session", aliceToken, 503},
		{"bob's first session", bobToken, 200},
		{"bob's second session: the gateway is full", bobToken, 503},
	}
	for _, st := range steps {
		r := send(t, "POST", gw.url, initBody, withToken(st.token, ""))
		if r.status != st.want {
			t.Fatalf("%s: got %d, want %d; %s", st.name, r.status, st.want, r.body)
		}
		if st.want == 503 && (r.header.Get("Retry-After") == "" || r.errorData() != "session_limit") {
			t.Errorf("%s: Retry-After %q, body %s", st.name, r.header.Get("Retry-After"), r.body)
		}
	}
	for _, s := range []string{a1, a2} {
		if r := send(t, "POST", gw.url, `{"jsonrpc":"2.0","id":5,"method":"ping"}`, withToken(aliceToken, s)); r.status != 200 {
			t.Errorf("live session after refusals: %d", r.status)
		}
	}
	m := gw.g.Metrics()
	if v, _ := m.Value("mcpgate_session_limit_refused_total", "scope", "user"); v != 1 {
		t.Errorf("per-user refusals: %v, want 1", v)
	}
	if v, _ := m.Value("mcpgate_session_limit_refused_total", "scope", "global"); v != 1 {
		t.Errorf("global refusals: %v, want 1", v)
	}
	if v, _ := m.Value("mcpgate_sessions_open"); v != 3 {
		t.Errorf("open sessions: %v, want 3", v)
	}
}

// TestRateLimit: over requests_per_minute a user gets 429 with
// Retry-After; other users are not affected.
func TestRateLimit(t *testing.T) {
	gw := startWith(t, staticConfig(t, "limits: {requests_per_minute: 4}"), nil)
	s := open(t, gw.url, withToken(aliceToken, "")) // two requests
	ping := `{"jsonrpc":"2.0","id":7,"method":"ping"}`
	for i, want := range []int{200, 200, 429, 429} {
		r := send(t, "POST", gw.url, ping, withToken(aliceToken, s))
		if r.status != want {
			t.Fatalf("request %d: got %d, want %d; %s", i, r.status, want, r.body)
		}
		if want == 429 {
			secs, err := strconv.Atoi(r.header.Get("Retry-After"))
			if err != nil || secs < 1 || secs > 15 || r.errorData() != "rate_limited" || r.errorCode() != -32600 {
				t.Errorf("429: Retry-After %q, body %s", r.header.Get("Retry-After"), r.body)
			}
		}
	}
	if r := send(t, "POST", gw.url, initBody, withToken(bobToken, "")); r.status != 200 {
		t.Errorf("bob is limited by alice's requests: %d", r.status)
	}
	if v, _ := gw.g.Metrics().Value("mcpgate_rate_limited_total"); v != 2 {
		t.Errorf("mcpgate_rate_limited_total: %v, want 2", v)
	}
	if v, _ := gw.g.Metrics().Value("mcpgate_http_responses_total", "code", "429"); v != 2 {
		t.Errorf(`mcpgate_http_responses_total{code="429"}: %v, want 2`, v)
	}
}

// TestBadInput: malformed or oversized input gets the right JSON-RPC
// error and leaves the session working.
func TestBadInput(t *testing.T) {
	gw := startWith(t, parseConfig(t, "http: {max_body_bytes: 4096}\n"+demoOnly), nil)
	s := open(t, gw.url, nil)
	h := withToken("", s)
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	steps := []struct {
		name       string
		body       string
		headers    map[string]string
		wantStatus int
		wantCode   int
	}{
		{"malformed JSON", `{"jsonrpc":"2.0","id":1,"method":`, h, 400, -32700},
		{"not JSON-RPC 2.0", `{"jsonrpc":"1.0","id":1,"method":"ping"}`, h, 400, -32600},
		{"no method", `{"jsonrpc":"2.0","id":1}`, h, 400, -32600},
		{"a batch after 2025-03-26", `[{"jsonrpc":"2.0","id":1,"method":"ping"}]`, h, 400, -32600},
		{"too deeply nested", `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":` + deep + `}}`, h, 400, -32700},
		{"unknown method", `{"jsonrpc":"2.0","id":1,"method":"no/such"}`, h, 200, -32601},
		{"tools/call without a name", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}`, h, 200, -32602},
		{"params neither object nor array", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"x"}`, h, 400, -32600},
		{"tools/call with params an array", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":[1]}`, h, 200, -32602},
		{"unknown tool", callTool(1, "nope", `{}`), h, 200, -32602},
		{"a bad cursor", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"x"}}`, h, 200, -32602},
		{"too large", `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"` + strings.Repeat("x", 5000) + `"}}`, h, 413, -32600},
		{"the session still works", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, h, 200, 0},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r := send(t, "POST", gw.url, st.body, st.headers)
			if r.status != st.wantStatus {
				t.Fatalf("status: got %d, want %d; %s", r.status, st.wantStatus, r.body)
			}
			if st.wantCode != 0 && r.errorCode() != st.wantCode {
				t.Errorf("code: got %d, want %d; %s", r.errorCode(), st.wantCode, r.body)
			}
			if st.wantStatus != 200 && r.errorCode() == 0 {
				t.Errorf("no JSON-RPC error object: %s", r.body)
			}
		})
	}
}

// TestControlCharactersInHeaders: header values with control characters
// are refused (400) before any handler runs; net/http's parser does it,
// and this test keeps it so.
func TestControlCharactersInHeaders(t *testing.T) {
	gw := startWith(t, parseConfig(t, demoOnly), nil)
	addr := strings.TrimPrefix(gw.base, "http://")
	for _, v := range []string{"a\x00b", "a\x01b", "a\x1bb", "a\x7fb", "a\rb"} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "POST /mcp HTTP/1.1\r\nHost: %s\r\nMcp-Session-Id: %s\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", addr, v)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		c.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("header value %q: got %d, want 400", v, resp.StatusCode)
		}
	}
}

// TestHostOriginAndCORS on a gateway with public hosts and an origin
// allowlist.
func TestHostOriginAndCORS(t *testing.T) {
	gw := startWith(t, parseConfig(t, `
public_hosts: [mcp.example.com]
allowed_origins: ["https://app.example.com"]
cors: {allow_credentials: true}
`+demoOnly), nil)
	steps := []struct {
		name        string
		method      string
		body        string
		headers     map[string]string
		wantStatus  int
		allowOrigin string
	}{
		{"loopback host", "POST", initBody, nil, 200, ""},
		{"public host", "POST", initBody, map[string]string{"Host": "mcp.example.com"}, 200, ""},
		{"rebinding host", "POST", initBody, map[string]string{"Host": "evil.example"}, 403, ""},
		{"allowed origin", "POST", initBody, map[string]string{"Origin": "https://app.example.com"}, 200, "https://app.example.com"},
		{"loopback origin without CORS", "POST", initBody, map[string]string{"Origin": "http://localhost:3000"}, 200, ""},
		{"hostile origin", "POST", initBody, map[string]string{"Origin": "https://evil.example"}, 403, ""},
		{"preflight", "OPTIONS", "", map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
			"Access-Control-Request-Headers": "authorization, content-type, mcp-session-id, mcp-protocol-version"}, 204, "https://app.example.com"},
		{"preflight from a hostile origin", "OPTIONS", "", map[string]string{"Origin": "https://evil.example",
			"Access-Control-Request-Method": "POST"}, 403, ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			req, _ := http.NewRequest(st.method, gw.url, strings.NewReader(st.body))
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("Content-Type", "application/json")
			for k, v := range st.headers {
				if k == "Host" {
					req.Host = v
				} else {
					req.Header.Set(k, v)
				}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != st.wantStatus {
				t.Fatalf("status: got %d, want %d", resp.StatusCode, st.wantStatus)
			}
			h := resp.Header
			if got := h.Get("Access-Control-Allow-Origin"); got != st.allowOrigin {
				t.Errorf("Access-Control-Allow-Origin: got %q, want %q", got, st.allowOrigin)
			}
			if st.allowOrigin != "" {
				if h.Get("Access-Control-Allow-Credentials") != "true" {
					t.Error("no Access-Control-Allow-Credentials")
				}
				if st.method == "POST" && !strings.Contains(h.Get("Access-Control-Expose-Headers"), "Mcp-Session-Id") {
					t.Errorf("Mcp-Session-Id not exposed: %q", h.Get("Access-Control-Expose-Headers"))
				}
			}
		})
	}
}

// TestInsecureNetworkWarns: a non-loopback listener allowed by
// insecure_allow_unprotected_network logs a warning at start and reports
// it on /health.
func TestInsecureNetworkWarns(t *testing.T) {
	cfg := parseConfig(t, "listen: 0.0.0.0:0\ninsecure_allow_unprotected_network: true\n"+demoOnly)
	gw := startWith(t, cfg, nil)
	if !strings.Contains(gw.logs.String(), "SECURITY WARNING: the listener 0.0.0.0:0 is reachable from the network without client authentication") {
		t.Errorf("no warning at start:\n%s", gw.logs.String())
	}
	resp, err := http.Get(gw.base + "/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct {
		Warnings []string `json:"warnings"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil || len(h.Warnings) != 3 {
		t.Errorf("/health warnings: %v (%v)", h.Warnings, err)
	}
	// Without the opt-out, such a configuration does not validate.
	cfg.InsecureAllowUnprotectedNetwork = false
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "client authentication is required") {
		t.Errorf("Validate: %v", err)
	}
}

// TestHealthOfSafeConfigHasNoWarnings keeps /health quiet by default.
func TestHealthOfSafeConfigHasNoWarnings(t *testing.T) {
	gw := startWith(t, parseConfig(t, demoOnly), nil)
	resp, err := http.Get(gw.base + "/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), "warnings") || strings.Contains(gw.logs.String(), "SECURITY WARNING") {
		t.Errorf("warnings on a safe configuration: %s", body)
	}
}

// TestUpstreamCallTimeout: a call the upstream does not answer within
// call_timeout gets a JSON-RPC error, and the session goes on.
func TestUpstreamCallTimeout(t *testing.T) {
	gw := startWith(t, parseConfig(t, `
upstreams:
  - name: demo
    command: DEMO
    args: [demo-server]
    call_timeout: 300ms
`), nil)
	s := open(t, gw.url, nil)
	r := send(t, "POST", gw.url, callTool(1, "slow", `{"ms":10000}`), withToken("", s))
	if r.status != 200 || r.errorCode() != -32001 || !strings.Contains(string(r.body), "did not answer in time") {
		t.Fatalf("got %d %s, want a -32001 timeout error", r.status, r.body)
	}
	if r := send(t, "POST", gw.url, callTool(2, "echo", `{"message":"after"}`), withToken("", s)); r.resultText() != "Echo: after" {
		t.Errorf("after the timeout: %s", r.body)
	}
}
