package gateway

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/access"
	"github.com/mcpgate/mcpgate/internal/bearer"
	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/secret"
)

// Tokens of the tests' static users.
const (
	aliceToken   = "mcpgate_test-alice-0123456789abcdefghij"
	aliceRotated = "mcpgate_test-alice-rotated-9876543210zy"
	bobToken     = "mcpgate_test-bob-0123456789abcdefghijkl"
	readerToken  = "mcpgate_test-reader-0123456789abcdefghi"
)

func digest(tok string) string {
	h, err := secret.HashToken(tok)
	if err != nil {
		panic(err)
	}
	return h
}

// staticConfig is the demo upstream behind static tokens; extra is
// appended to the YAML.
func staticConfig(t *testing.T, extra string) *config.Config {
	t.Helper()
	return parseConfig(t, fmt.Sprintf(`
auth:
  mode: static
  realm: test-realm
  tokens:
    - {user: alice, role: admin, hash: %q}
    - {user: alice, role: admin, hash: %q}
    - {user: bob, hash: %q}
    - {user: reader, role: readonly, hash: %q}
%s
upstreams:
  - name: demo
    command: DEMO
    args: [demo-server]
`, digest(aliceToken), digest(aliceRotated), digest(bobToken), digest(readerToken), extra))
}

// TestStaticAuthAndSessionBinding is a script: authentication (401 with a
// challenge), session binding (403 for another user, 404 for an unknown
// session) and token rotation (the same user's new token keeps the
// session).
func TestStaticAuthAndSessionBinding(t *testing.T) {
	gw := startWith(t, staticConfig(t, ""), nil)
	alice := open(t, gw.url, withToken(aliceToken, ""))
	const list = `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`
	steps := []struct {
		name       string
		method     string
		body       string
		headers    map[string]string
		wantStatus int
		wantData   string // error.data.error of a transport error
		wantChall  string // WWW-Authenticate
	}{
		{"initialize without a token", "POST", initBody, nil, 401, "unauthorized", `Bearer realm="test-realm"`},
		{"initialize with an unknown token", "POST", initBody, withToken("mcpgate_test-mallory-0123456789abcdefg", ""), 401,
			"invalid_token", `Bearer realm="test-realm", error="invalid_token"`},
		{"initialize with a malformed header", "POST", initBody, map[string]string{"Authorization": "Bearer a b"}, 400,
			"invalid_request", `Bearer realm="test-realm", error="invalid_request"`},
		{"token in the query string is not read", "POST", initBody, nil, 401, "unauthorized", `Bearer realm="test-realm"`},
		{"alice lists", "POST", list, withToken(aliceToken, alice), 200, "", ""},
		{"alice's rotated token keeps the session", "POST", list, withToken(aliceRotated, alice), 200, "", ""},
		{"bob on alice's session", "POST", list, withToken(bobToken, alice), 403, "forbidden", ""},
		{"bob's GET on alice's session", "GET", "", withToken(bobToken, alice), 403, "forbidden", ""},
		{"no token on alice's session", "POST", list, map[string]string{"Mcp-Session-Id": alice}, 401, "unauthorized", `Bearer realm="test-realm"`},
		{"unknown session", "POST", list, withToken(aliceToken, "c2Vzc2lvbi10aGF0LWRvZXMtbm90LWV4aXN0"), 404, "session_not_found", ""},
		{"bob cannot delete it", "DELETE", "", withToken(bobToken, alice), 403, "forbidden", ""},
		{"alice deletes it", "DELETE", "", withToken(aliceToken, alice), 204, "", ""},
		{"gone", "POST", list, withToken(aliceToken, alice), 404, "session_not_found", ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			url := gw.url
			if strings.Contains(st.name, "query") {
				url += "?access_token=" + aliceToken
			}
			r := send(t, st.method, url, st.body, st.headers)
			if r.status != st.wantStatus {
				t.Fatalf("status: got %d, want %d; body %s", r.status, st.wantStatus, r.body)
			}
			if got := r.header.Get("WWW-Authenticate"); got != st.wantChall {
				t.Errorf("WWW-Authenticate: got %q, want %q", got, st.wantChall)
			}
			if st.wantData != "" {
				if r.errorData() != st.wantData || r.message["id"] != nil {
					t.Errorf("body: got %s, want a JSON-RPC error with id null and data.error %q", r.body, st.wantData)
				}
			}
			if st.wantStatus == 401 {
				msg, _ := r.message["error"].(map[string]any)["message"].(string)
				if !strings.Contains(msg, "Authorization: Bearer <token>") {
					t.Errorf("401 does not say how to authenticate: %q", msg)
				}
			}
		})
	}
	if v, _ := gw.g.Metrics().Value("mcpgate_auth_refused_total"); v != 5 {
		t.Errorf("mcpgate_auth_refused_total: %v, want 5", v)
	}
}

// TestReadonlyRole: a readonly user lists and calls tools annotated
// readOnlyHint, and is refused the others with -32003; the refused tool
// never runs (crash would kill the upstream).
func TestReadonlyRole(t *testing.T) {
	gw := startWith(t, staticConfig(t, ""), nil)
	reader := open(t, gw.url, withToken(readerToken, ""))
	bob := open(t, gw.url, withToken(bobToken, ""))
	steps := []struct {
		name     string
		session  string
		token    string
		body     string
		wantCode int    // JSON-RPC error code; 0 for a result
		wantText string // result text prefix
	}{
		{"reader lists tools", reader, readerToken, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, 0, ""},
		{"reader reads a resource list", reader, readerToken, `{"jsonrpc":"2.0","id":2,"method":"resources/list"}`, 0, ""},
		{"reader calls a readOnlyHint tool", reader, readerToken, callTool(3, "echo", `{"message":"hi"}`), 0, "Echo: hi"},
		{"reader calls a destructive tool", reader, readerToken, callTool(4, "crash", `{}`), -32003, ""},
		{"reader calls an unannotated tool", reader, readerToken, callTool(5, "trigger_list_changed", `{}`), -32003, ""},
		{"reader calls an unknown tool", reader, readerToken, callTool(6, "no_such_tool", `{}`), -32602, ""},
		{"the upstream still runs", reader, readerToken, callTool(7, "echo", `{"message":"alive"}`), 0, "Echo: alive"},
		{"a user calls an unannotated tool", bob, bobToken, callTool(8, "trigger_list_changed", `{"list":"prompts"}`), 0, ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r := send(t, "POST", gw.url, st.body, withToken(st.token, st.session))
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if got := r.errorCode(); got != st.wantCode {
				t.Fatalf("error code: got %d, want %d; body %s", got, st.wantCode, r.body)
			}
			if !strings.HasPrefix(r.resultText(), st.wantText) {
				t.Errorf("result: %s", r.body)
			}
		})
	}
	if v, _ := gw.g.Metrics().Value("mcpgate_access_denied_total"); v != 2 {
		t.Errorf("mcpgate_access_denied_total: %v, want 2", v)
	}
}

// TestPassthroughBinding: with credential passthrough the session is bound
// to the credential's hash: the credential that opened it continues it,
// another credential gets 403. (Passthrough is refused by New until the
// upstream side injects the credential; the test swaps the authenticator
// in.)
func TestPassthroughBinding(t *testing.T) {
	const credA, credB = "fizzy-pat-alpha-7f3c9e2a1b", "fizzy-pat-beta-0a9d8c7b6e"
	gw := startWith(t, parseConfig(t, demoOnly), func(g *Gateway) {
		a, err := bearer.NewPassthrough(bearer.PassthroughOptions{Upstream: "demo"})
		if err != nil {
			t.Fatal(err)
		}
		g.auth = a
		if g.handler, err = g.routes(); err != nil {
			t.Fatal(err)
		}
	})
	s := open(t, gw.url, withToken(credA, ""))
	list := `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`
	for _, st := range []struct {
		name  string
		h     map[string]string
		want  int
		wantD string
	}{
		{"same credential", withToken(credA, s), 200, ""},
		{"another credential", withToken(credB, s), 403, "forbidden"},
		{"no credential", map[string]string{"Mcp-Session-Id": s}, 401, "unauthorized"},
	} {
		r := send(t, "POST", gw.url, list, st.h)
		if r.status != st.want || st.wantD != "" && r.errorData() != st.wantD {
			t.Errorf("%s: got %d %s, want %d %s", st.name, r.status, r.body, st.want, st.wantD)
		}
	}
	logs := gw.logs.String()
	for _, c := range []string{credA, credB} {
		if strings.Contains(logs, c) {
			t.Errorf("logs hold a passthrough credential")
		}
	}
}

// TestLogsNeverHoldSecrets runs a whole authenticated session — and
// refused attempts, and a tool that reads a static upstream credential —
// with debug logging, and searches every log line for the tokens, their
// digests (hex and base64 forms) and the credential.
func TestLogsNeverHoldSecrets(t *testing.T) {
	const upstreamSecret = "demo-upstream-secret-c0ffee42"
	t.Setenv("MCPGATE_TEST_UPSTREAM_SECRET", upstreamSecret)
	cfg := parseConfig(t, fmt.Sprintf(`
auth:
  mode: static
  tokens:
    - {user: alice, hash: %q}
upstreams:
  - name: demo
    command: DEMO
    args: [demo-server]
    credential:
      type: static
      value: env:MCPGATE_TEST_UPSTREAM_SECRET
      env: MCPGATE_UPSTREAM_TOKEN
`, digest(aliceToken)))
	if err := cfg.ResolveSecrets(config.SecretReader{}); err != nil {
		t.Fatal(err)
	}
	gw := startWith(t, cfg, nil)
	s := open(t, gw.url, withToken(aliceToken, ""))
	h := withToken(aliceToken, s)
	r := send(t, "POST", gw.url, callTool(2, "get_env", `{"name":"MCPGATE_UPSTREAM_TOKEN"}`), h)
	if !strings.Contains(r.resultText(), upstreamSecret) {
		t.Fatalf("the upstream did not get its credential: %s", r.body)
	}
	send(t, "POST", gw.url, callTool(3, "echo", `{"message":"x"}`), h)
	send(t, "POST", gw.url, callTool(4, "no_such_tool", `{}`), h)
	send(t, "POST", gw.url, initBody, withToken(bobToken, ""))       // unknown token
	send(t, "POST", gw.url, initBody, withToken(aliceToken+"x", "")) // near miss
	send(t, "POST", gw.url, `{"jsonrpc":"2.0","id":9,"method":"ping"}`, withToken(bobToken, s))
	send(t, "DELETE", gw.url, "", h)

	logs := gw.logs.String()
	if !strings.Contains(logs, "request refused: authentication") || !strings.Contains(logs, `"principal":"alice"`) {
		t.Fatalf("the log does not show the session; is logging on?\n%s", logs)
	}
	var needles []string
	for _, tok := range []string{aliceToken, bobToken, aliceToken + "x"} {
		d := secret.DigestOf(tok)
		needles = append(needles, tok, hex.EncodeToString(d[:]), hex.EncodeToString(d[:])[:16])
	}
	needles = append(needles, upstreamSecret)
	for _, n := range needles {
		if strings.Contains(logs, n) {
			t.Errorf("the log holds a secret (%.12s…)", n)
		}
	}
}

// TestPerUserProcessesAndCredentials: a per_user upstream runs one process
// per user, and each process holds only its user's credential. Two users
// ask the demo's get_env tool for the credential variable; each sees their
// own secret, and the processes differ.
func TestPerUserProcessesAndCredentials(t *testing.T) {
	const aliceSecret, bobSecret = "alice-upstream-secret-11aa", "bob-upstream-secret-22bb"
	t.Setenv("MCPGATE_TEST_ALICE_SECRET", aliceSecret)
	t.Setenv("MCPGATE_TEST_BOB_SECRET", bobSecret)
	cfg := parseConfig(t, fmt.Sprintf(`
auth:
  mode: static
  tokens:
    - {user: alice, hash: %q}
    - {user: bob, hash: %q}
upstreams:
  - name: demo
    command: DEMO
    args: [demo-server]
    per_user: true
    credential:
      type: per_user
      env: MCPGATE_USER_TOKEN
      users:
        alice: env:MCPGATE_TEST_ALICE_SECRET
        bob: env:MCPGATE_TEST_BOB_SECRET
`, digest(aliceToken), digest(bobToken)))
	if err := cfg.ResolveSecrets(config.SecretReader{}); err != nil {
		t.Fatal(err)
	}
	gw := startWith(t, cfg, nil)
	ask := func(token, session, name string) string {
		t.Helper()
		r := send(t, "POST", gw.url, callTool(7, "get_env", `{"name":"`+name+`"}`), withToken(token, session))
		if r.status != 200 {
			t.Fatalf("get_env: %d %s", r.status, r.body)
		}
		return r.resultText()
	}
	alice := open(t, gw.url, withToken(aliceToken, ""))
	alice2 := open(t, gw.url, withToken(aliceToken, ""))
	bob := open(t, gw.url, withToken(bobToken, ""))
	if got := ask(aliceToken, alice, "MCPGATE_USER_TOKEN"); !strings.Contains(got, aliceSecret) || strings.Contains(got, bobSecret) {
		t.Errorf("alice's process sees %q", got)
	}
	if got := ask(bobToken, bob, "MCPGATE_USER_TOKEN"); !strings.Contains(got, bobSecret) || strings.Contains(got, aliceSecret) {
		t.Errorf("bob's process sees %q", got)
	}
	// The gateway's own environment holds both secrets; no process sees
	// the other user's variable.
	if got := ask(aliceToken, alice2, "MCPGATE_TEST_BOB_SECRET"); strings.Contains(got, bobSecret) {
		t.Errorf("alice's process sees bob's secret: %q", got)
	}
	if n := gw.g.perUser[0].Len(); n != 2 {
		t.Errorf("%d per-user processes for two users (three sessions), want 2", n)
	}
	logs := gw.logs.String()
	for _, s := range []string{aliceSecret, bobSecret} {
		if strings.Contains(logs, s) {
			t.Errorf("logs hold an upstream credential")
		}
	}
}

// TestPerUserProcessLimit: a new user whose process would exceed
// limits.max_processes is refused a session with 503 and Retry-After; the
// gateway does not stop anyone's live process to make room.
func TestPerUserProcessLimit(t *testing.T) {
	cfg := parseConfig(t, fmt.Sprintf(`
auth:
  mode: static
  tokens:
    - {user: alice, hash: %q}
    - {user: bob, hash: %q}
limits:
  max_processes: 1
upstreams:
  - name: demo
    command: DEMO
    args: [demo-server]
    per_user: true
`, digest(aliceToken), digest(bobToken)))
	gw := startWith(t, cfg, nil)
	alice := open(t, gw.url, withToken(aliceToken, ""))
	if r := send(t, "POST", gw.url, callTool(2, "echo", `{"message":"hi"}`), withToken(aliceToken, alice)); r.errorCode() != 0 {
		t.Fatalf("alice: %s", r.body)
	}
	// bob's session is refused up front: his process cannot be started.
	r := send(t, "POST", gw.url, initBody, withToken(bobToken, ""))
	if r.status != 503 || r.header.Get("Retry-After") == "" || r.errorData() != "upstream_capacity" {
		t.Errorf("bob over the process limit: %d %v %s", r.status, r.header, r.body)
	}
	if v, _ := gw.g.Metrics().Value("mcpgate_process_limit_refused_total"); v != 1 {
		t.Errorf("mcpgate_process_limit_refused_total = %v, want 1", v)
	}
	if r := send(t, "POST", gw.url, callTool(4, "echo", `{"message":"again"}`), withToken(aliceToken, alice)); r.errorCode() != 0 {
		t.Errorf("alice after bob was refused: %s", r.body)
	}
}

// TestPassthroughCredentialReachesOnlyItsProcess: in passthrough mode the
// client's credential is injected into its own upstream process.
func TestPassthroughCredentialReachesOnlyItsProcess(t *testing.T) {
	const credA, credB = "fizzy-pat-alpha-7f3c9e2a1b", "fizzy-pat-beta-0a9d8c7b6e"
	gw := startWith(t, parseConfig(t, `
listen: 127.0.0.1:0
auth:
  mode: passthrough
  passthrough: {upstream: demo}
upstreams:
  - name: demo
    command: DEMO
    args: [demo-server]
    per_user: true
    credential: {type: passthrough, env: MCPGATE_PASSTHROUGH}
`), nil)
	for _, cred := range []string{credA, credB} {
		s := open(t, gw.url, withToken(cred, ""))
		r := send(t, "POST", gw.url, callTool(2, "get_env", `{"name":"MCPGATE_PASSTHROUGH"}`), withToken(cred, s))
		if got := r.resultText(); !strings.Contains(got, cred) {
			t.Errorf("process of credential %.10s… sees %q", cred, got)
		}
	}
	if strings.Contains(gw.logs.String(), credA) || strings.Contains(gw.logs.String(), credB) {
		t.Error("logs hold a passthrough credential")
	}
}

// TestReadonlyRoleOnPerUserUpstream: role checks see the user's own
// catalog of a per-user upstream.
func TestReadonlyRoleOnPerUserUpstream(t *testing.T) {
	gw := startWith(t, parseConfig(t, fmt.Sprintf(`
auth:
  mode: static
  tokens:
    - {user: reader, role: readonly, hash: %q}
upstreams:
  - name: demo
    command: DEMO
    args: [demo-server]
    per_user: true
`, digest(readerToken))), nil)
	s := open(t, gw.url, withToken(readerToken, ""))
	if r := send(t, "POST", gw.url, callTool(2, "echo", `{"message":"ro"}`), withToken(readerToken, s)); r.errorCode() != 0 || !strings.Contains(r.resultText(), "ro") {
		t.Errorf("readonly echo: %s", r.body)
	}
	if r := send(t, "POST", gw.url, callTool(3, "crash", `{}`), withToken(readerToken, s)); r.errorCode() != access.CodeForbidden {
		t.Errorf("readonly crash: %s", r.body)
	}
}
