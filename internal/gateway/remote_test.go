//lint:file-ignore SA1019 sampling is deprecated by 2026-07-28 (SEP-2577) but clients and servers of every era still use it; the gateway relays it and these tests prove that.

package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// TestRemoteUpstreamsChain: a gateway whose upstreams are another
// gateway's Streamable HTTP endpoint (type http) and legacy SSE endpoint
// (type sse), in front of the demo upstream; the Go SDK client lists and
// calls through both, a sampling request travels back through both
// gateways, a stream the demo cuts (test_reconnection) is resumed, /health
// shows both remote upstreams, and shutting the front gateway down ends its
// sessions on the back one.
func TestRemoteUpstreamsChain(t *testing.T) {
	back := startWith(t, parseConfig(t, demoOnly), nil)
	front := startWith(t, parseConfig(t, fmt.Sprintf(`
upstreams:
  - name: viahttp
    type: http
    protocol: legacy # the session era of Streamable HTTP (remote_modern_test.go has the 2026 one)
    url: %s/mcp
  - name: viasse
    type: sse
    url: %s/sse
`, back.base, back.base)), nil)
	cs := connectSDK(t, front.url, "2025-11-25", &mcp.ClientOptions{
		CreateMessageHandler: func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			return &mcp.CreateMessageResult{Model: "m", Role: "assistant", Content: &mcp.TextContent{Text: "sampled through two gateways"}}, nil
		},
	}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	names := toolNames(t, cs)
	for _, want := range []string{"viahttp__echo", "viasse__echo", "viahttp__test_sampling"} {
		if !slices.Contains(names, want) {
			t.Errorf("tools/list lacks %q: %v", want, names)
		}
	}
	callTools(t, cs, []toolCall{
		{"viahttp__echo", map[string]any{"message": "over streamable http"}, "over streamable http"},
		{"viasse__echo", map[string]any{"message": "over legacy sse"}, "over legacy sse"},
		{"viahttp__test_sampling", map[string]any{"prompt": "hi"}, "sampled through two gateways"},
		{"viasse__test_sampling", map[string]any{"prompt": "hi"}, "sampled through two gateways"},
		{"viahttp__test_reconnection", map[string]any{}, ""},
	})

	r := send(t, "GET", front.base+"/health", "", nil)
	var health struct {
		Status    string
		Upstreams []upstream.Status
	}
	if err := json.Unmarshal(r.body, &health); err != nil {
		t.Fatal(err)
	}
	transports := map[string]string{}
	for _, u := range health.Upstreams {
		transports[u.Name] = u.Transport + " " + string(u.State)
	}
	if health.Status != "ok" || transports["viahttp"] != "http ready" || transports["viasse"] != "sse ready" {
		t.Errorf("health = %s", r.body)
	}
	if strings.Contains(string(r.body), back.base) {
		t.Errorf("/health shows the upstream URL: %s", r.body)
	}

	// Shutting the front down ends its sessions on the back gateway: the
	// Streamable HTTP one with DELETE, the legacy one by closing its stream.
	if n, _ := back.g.sessions.Count(ctx); n != 2 { // the front's two upstream sessions
		t.Errorf("back gateway sessions = %d, want 2", n)
	}
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	_ = front.g.hub.Shutdown(sctx)
	if err := front.g.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the back gateway's sessions to end", func() bool {
		n, _ := back.g.sessions.Count(ctx)
		return n == 0
	})
}

// headerUpstream is a Go SDK server behind Streamable HTTP whose tool
// "header" answers the value of the request header it is asked for, and
// which records every header value it was sent.
type headerUpstream struct {
	url string

	mu   sync.Mutex // guards seen
	seen []string   // every header value of every request
}

func startHeaderUpstream(t *testing.T) *headerUpstream {
	t.Helper()
	hu := &headerUpstream{}
	s := mcp.NewServer(&mcp.Implementation{Name: "headers", Version: "1"}, nil)
	type in struct {
		Name string `json:"name"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "header"}, func(ctx context.Context, req *mcp.CallToolRequest, a in) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: a.Name + "=" + req.Extra.Header.Get(a.Name)}}}, nil, nil
	})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{JSONResponse: true})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hu.mu.Lock()
		for _, vs := range r.Header {
			hu.seen = append(hu.seen, vs...)
		}
		hu.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	hu.url = srv.URL
	return hu
}

// received reports whether any request carried a header value containing s.
func (hu *headerUpstream) received(s string) bool {
	hu.mu.Lock()
	defer hu.mu.Unlock()
	return slices.ContainsFunc(hu.seen, func(v string) bool { return strings.Contains(v, s) })
}

// TestRemotePerUserCredentialHeader (issue 5 item 4): a remote upstream
// marked per_user gets one connection per user, each sending only that
// user's credential in the configured header; a static credential goes
// as "Authorization: Bearer …" by default. The clients' gateway tokens
// never reach an upstream, and no credential reaches the logs.
func TestRemotePerUserCredentialHeader(t *testing.T) {
	const aliceKey, bobKey, staticKey = "alice-remote-key-5e1f", "bob-remote-key-9a7c", "static-remote-key-33d0"
	const headerSecret = "header-secret-value-71b2"
	t.Setenv("MCPGATE_TEST_HEADER_SECRET", headerSecret)
	t.Setenv("MCPGATE_TEST_ALICE_KEY", aliceKey)
	t.Setenv("MCPGATE_TEST_BOB_KEY", bobKey)
	t.Setenv("MCPGATE_TEST_STATIC_KEY", staticKey)
	keyed, shared := startHeaderUpstream(t), startHeaderUpstream(t)
	cfg := parseConfig(t, fmt.Sprintf(`
auth:
  mode: static
  tokens:
    - {user: alice, hash: %q}
    - {user: bob, hash: %q}
upstreams:
  - name: keyed
    type: http
    protocol: legacy # the session era of Streamable HTTP (remote_modern_test.go has the 2026 one)
    url: %s
    per_user: true
    credential:
      type: per_user
      header: X-Api-Key
      users:
        alice: env:MCPGATE_TEST_ALICE_KEY
        bob: env:MCPGATE_TEST_BOB_KEY
  - name: shared
    type: http
    protocol: legacy # the session era of Streamable HTTP (remote_modern_test.go has the 2026 one)
    url: %s
    headers: {X-Team: blue, X-Shared-Secret: "env:MCPGATE_TEST_HEADER_SECRET"}
    credential: {type: static, value: env:MCPGATE_TEST_STATIC_KEY}
`, digest(aliceToken), digest(bobToken), keyed.url, shared.url))
	if err := cfg.ResolveSecrets(config.SecretReader{}); err != nil {
		t.Fatal(err)
	}
	gw := startWith(t, cfg, nil)
	ask := func(token, session, tool, header string) string {
		t.Helper()
		r := send(t, "POST", gw.url, callTool(7, tool, `{"name":"`+header+`"}`), withToken(token, session))
		if r.status != 200 {
			t.Fatalf("%s: %d %s", tool, r.status, r.body)
		}
		return r.resultText()
	}
	alice := open(t, gw.url, withToken(aliceToken, ""))
	alice2 := open(t, gw.url, withToken(aliceToken, ""))
	bob := open(t, gw.url, withToken(bobToken, ""))
	for _, tc := range []struct {
		name, token, session, tool, header, want string
	}{
		{"alice's key", aliceToken, alice, "keyed__header", "X-Api-Key", "X-Api-Key=" + aliceKey},
		{"alice's second session, same connection", aliceToken, alice2, "keyed__header", "X-Api-Key", "X-Api-Key=" + aliceKey},
		{"bob's key", bobToken, bob, "keyed__header", "X-Api-Key", "X-Api-Key=" + bobKey},
		{"no Authorization on the keyed upstream", aliceToken, alice, "keyed__header", "Authorization", "Authorization="},
		{"static credential as a bearer", bobToken, bob, "shared__header", "Authorization", "Authorization=Bearer " + staticKey},
		{"static header", aliceToken, alice, "shared__header", "X-Team", "X-Team=blue"},
		{"secret static header", aliceToken, alice, "shared__header", "X-Shared-Secret", "X-Shared-Secret=" + headerSecret},
	} {
		if got := ask(tc.token, tc.session, tc.tool, tc.header); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	if n := gw.g.perUser[0].Len(); n != 2 {
		t.Errorf("%d per-user connections for two users (three sessions), want 2", n)
	}
	for _, tok := range []string{aliceToken, bobToken} {
		if keyed.received(tok) || shared.received(tok) {
			t.Errorf("a client's gateway token reached an upstream")
		}
	}
	if keyed.received(bobKey) && keyed.received(aliceKey) && shared.received(aliceKey) {
		t.Errorf("a user's key reached the shared upstream")
	}
	logs := gw.logs.String()
	for _, s := range []string{aliceKey, bobKey, staticKey, headerSecret, aliceToken, bobToken} {
		if strings.Contains(logs, s) {
			t.Errorf("logs hold a secret (%.8s…)", s)
		}
	}
}

// TestRemotePassthroughCredentialHeader: in passthrough mode the client's
// credential for the named upstream is sent to that upstream, per user,
// as a bearer, and nowhere else.
func TestRemotePassthroughCredentialHeader(t *testing.T) {
	const credA, credB = "remote-pat-alpha-7f3c9e2a1b", "remote-pat-beta-0a9d8c7b6e"
	up, other := startHeaderUpstream(t), startHeaderUpstream(t)
	gw := startWith(t, parseConfig(t, fmt.Sprintf(`
auth:
  mode: passthrough
  passthrough: {upstream: api}
upstreams:
  - name: api
    type: http
    protocol: legacy # the session era of Streamable HTTP (remote_modern_test.go has the 2026 one)
    url: %s
    per_user: true
    credential: {type: passthrough}
  - name: other
    type: http
    protocol: legacy # the session era of Streamable HTTP (remote_modern_test.go has the 2026 one)
    url: %s
`, up.url, other.url)), nil)
	for _, cred := range []string{credA, credB} {
		s := open(t, gw.url, withToken(cred, ""))
		r := send(t, "POST", gw.url, callTool(2, "api__header", `{"name":"Authorization"}`), withToken(cred, s))
		if got, want := r.resultText(), "Authorization=Bearer "+cred; got != want {
			t.Errorf("upstream saw %q, want %q", got, want)
		}
		r = send(t, "POST", gw.url, callTool(3, "other__header", `{"name":"Authorization"}`), withToken(cred, s))
		if got := r.resultText(); got != "Authorization=" {
			t.Errorf("the other upstream saw %q", got)
		}
	}
	if other.received(credA) || other.received(credB) {
		t.Error("a passthrough credential reached another upstream")
	}
	if logs := gw.logs.String(); strings.Contains(logs, credA) || strings.Contains(logs, credB) {
		t.Error("logs hold a passthrough credential")
	}
}

// TestRemoteCancellation: a client cancels a call that the front gateway
// forwarded to a remote upstream (another gateway); the front sends
// notifications/cancelled over HTTP, so the call leaves the back gateway
// too, and both sessions go on working.
func TestRemoteCancellation(t *testing.T) {
	back := startWith(t, parseConfig(t, demoOnly), nil)
	front := frontOf(t, back.url)
	cs := connectSDK(t, front.url, "2025-11-25", nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{"ms": 60000}})
		done <- err
	}()
	waitFor(t, "the slow call to reach the back gateway", func() bool { return back.g.relay.InFlight() == 1 })
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("cancelled call did not return")
	}
	waitFor(t, "the cancelled call to leave the back gateway", func() bool { return back.g.relay.InFlight() == 0 })
	callTools(t, cs, []toolCall{{"echo", map[string]any{"message": "after"}, "after"}})
}

// frontOf starts a gateway whose one upstream, "back", is the Streamable
// HTTP endpoint url.
func frontOf(t *testing.T, url string) *started {
	t.Helper()
	return startWith(t, parseConfig(t, fmt.Sprintf(`
upstreams:
  - name: back
    type: http
    protocol: legacy # the session era of Streamable HTTP (remote_modern_test.go has the 2026 one)
    url: %s
`, url)), nil)
}
