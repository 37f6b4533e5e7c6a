package bearer

import (
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/logtest"

	"github.com/mcpgate/mcpgate/internal/httpkit"
	"github.com/mcpgate/mcpgate/internal/metrics"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/secret"
)

// Test tokens; real ones come from NewToken.
const (
	aliceToken    = "mcpgate_alice-0123456789abcdefghijkl"
	aliceToken2   = "mcpgate_alice-rotated-9876543210zyxw"
	readerToken   = "mcpgate_reader-0123456789abcdefghijk"
	unknownToken  = "mcpgate_mallory-0123456789abcdefghij"
	passCredFizzy = "fizzy-pat-7f3c9e2a1b"
)

func mustHash(t *testing.T, tok string) secret.Digest {
	t.Helper()
	s, err := secret.HashToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	d, err := secret.ParseDigest(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// syncBuffer collects logs for tests to search.
type syncBuffer = logtest.Sink

// echoPrincipal answers with the principal and credential it was given.
var echoPrincipal = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	p := principal.FromContext(r.Context())
	c, ok := principal.CredentialFromContext(r.Context())
	json.NewEncoder(w).Encode(map[string]any{
		"issuer": p.Issuer, "subject": p.Subject, "name": p.Name, "role": p.Role,
		"cred_upstream": c.Upstream, "cred_ok": ok, "cred_matches": ok && c.Value.Reveal() == passCredFizzy,
	})
})

type step struct {
	name       string
	headers    map[string][]string
	wantStatus int
	wantCode   string // error body code
	wantChall  string // WWW-Authenticate
	wantUser   string // principal name on success
	wantRole   string
}

func runSteps(t *testing.T, a Authenticator, steps []step) (subjects map[string]string, logs string) {
	t.Helper()
	var buf syncBuffer
	refused := metrics.NewRegistry().Counter("refused_total", "")
	mw := Middleware(a, &MiddlewareOptions{Realm: "test", Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), Refused: refused})
	srv := httptest.NewServer(httpkit.Chain(httpkit.Edge(nil))(mw(echoPrincipal)))
	defer srv.Close()
	subjects = map[string]string{}
	wantRefused := 0
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", srv.URL+"/mcp", strings.NewReader("{}"))
			for k, vs := range st.headers {
				for _, v := range vs {
					req.Header.Add(k, v)
				}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != st.wantStatus {
				t.Fatalf("status: got %d, want %d; body %s", resp.StatusCode, st.wantStatus, body)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != st.wantChall {
				t.Errorf("WWW-Authenticate: got %q, want %q", got, st.wantChall)
			}
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatalf("body %q is not JSON: %v", body, err)
			}
			if st.wantStatus != http.StatusOK {
				wantRefused++
				if m["error"] != st.wantCode || m["request_id"] == "" {
					t.Errorf("error body: got %v, want code %q and a request id", m, st.wantCode)
				}
				if msg, _ := m["message"].(string); !strings.Contains(msg, "Authorization") && !strings.Contains(msg, "X-") {
					t.Errorf("error message does not say how to authenticate: %q", msg)
				}
				return
			}
			if st.wantUser != "" && m["name"] != st.wantUser || m["role"] != st.wantRole {
				t.Errorf("principal: got %v, want name %q role %q", m, st.wantUser, st.wantRole)
			}
			subjects[st.name] = m["issuer"].(string) + "/" + m["subject"].(string)
		})
	}
	if got := refused.Value(); got != uint64(wantRefused) {
		t.Errorf("refused counter: got %d, want %d", got, wantRefused)
	}
	return subjects, buf.String()
}

func auth(v string) map[string][]string { return map[string][]string{"Authorization": {v}} }

func TestStaticMiddleware(t *testing.T) {
	st, err := NewStatic([]Token{
		{User: "alice", Role: principal.RoleAdmin, Digest: mustHash(t, aliceToken)},
		{User: "alice", Role: principal.RoleAdmin, Digest: mustHash(t, aliceToken2)},
		{User: "reader", Role: principal.RoleReadOnly, Digest: mustHash(t, readerToken)},
	})
	if err != nil {
		t.Fatal(err)
	}
	const (
		plain     = `Bearer realm="test"`
		invalid   = `Bearer realm="test", error="invalid_token"`
		malformed = `Bearer realm="test", error="invalid_request"`
	)
	steps := []step{
		{name: "alice", headers: auth("Bearer " + aliceToken), wantStatus: 200, wantUser: "alice", wantRole: "admin"},
		{name: "alice rotated", headers: auth("Bearer " + aliceToken2), wantStatus: 200, wantUser: "alice", wantRole: "admin"},
		{name: "scheme case-insensitive", headers: auth("bEaReR " + readerToken), wantStatus: 200, wantUser: "reader", wantRole: "readonly"},
		{name: "missing", wantStatus: 401, wantCode: "unauthorized", wantChall: plain},
		{name: "other scheme", headers: auth("Basic YWxpY2U6cHc="), wantStatus: 401, wantCode: "unauthorized", wantChall: plain},
		{name: "unknown token", headers: auth("Bearer " + unknownToken), wantStatus: 401, wantCode: "invalid_token", wantChall: invalid},
		{name: "token prefix", headers: auth("Bearer " + aliceToken[:len(aliceToken)-1]), wantStatus: 401, wantCode: "invalid_token", wantChall: invalid},
		{name: "digest as token", headers: auth("Bearer sha256:" + strings.Repeat("0", 64)), wantStatus: 401, wantCode: "invalid_token", wantChall: invalid},
		{name: "empty token", headers: auth("Bearer "), wantStatus: 400, wantCode: "invalid_request", wantChall: malformed},
		{name: "two tokens", headers: auth("Bearer " + aliceToken + " " + readerToken), wantStatus: 400, wantCode: "invalid_request", wantChall: malformed},
		{name: "header twice", headers: map[string][]string{"Authorization": {"Bearer " + aliceToken, "Bearer " + readerToken}},
			wantStatus: 400, wantCode: "invalid_request", wantChall: malformed},
		{name: "too long", headers: auth("Bearer " + strings.Repeat("a", MaxCredentialLen+1)), wantStatus: 400, wantCode: "invalid_request", wantChall: malformed},
	}
	subjects, logs := runSteps(t, st, steps)
	if subjects["alice"] != subjects["alice rotated"] {
		t.Errorf("two tokens of one user give two principals: %q, %q", subjects["alice"], subjects["alice rotated"])
	}
	for _, tok := range []string{aliceToken, aliceToken2, readerToken, unknownToken} {
		h, _ := secret.HashToken(tok)
		if strings.Contains(logs, tok) || strings.Contains(logs, strings.TrimPrefix(h, secret.DigestPrefix)) {
			t.Errorf("logs hold a token or its digest:\n%s", logs)
		}
	}
	if !strings.Contains(logs, "request refused: authentication") {
		t.Errorf("refusals are not logged:\n%s", logs)
	}
}

func TestPassthroughMiddleware(t *testing.T) {
	bearer, err := NewPassthrough(PassthroughOptions{Upstream: "fizzy"})
	if err != nil {
		t.Fatal(err)
	}
	custom, err := NewPassthrough(PassthroughOptions{Upstream: "fizzy", Header: "x-fizzy-token"})
	if err != nil {
		t.Fatal(err)
	}
	const plain = `Bearer realm="test"`
	subjects, logs := runSteps(t, bearer, []step{
		{name: "credential", headers: auth("Bearer " + passCredFizzy), wantStatus: 200, wantRole: "user"},
		{name: "same again", headers: auth("Bearer " + passCredFizzy), wantStatus: 200, wantRole: "user"},
		{name: "another", headers: auth("Bearer other-credential"), wantStatus: 200, wantRole: "user"},
		{name: "missing", wantStatus: 401, wantCode: "unauthorized", wantChall: plain},
		{name: "custom header ignored", headers: map[string][]string{"X-Fizzy-Token": {passCredFizzy}}, wantStatus: 401,
			wantCode: "unauthorized", wantChall: plain},
	})
	subjects2, logs2 := runSteps(t, custom, []step{
		{name: "credential", headers: map[string][]string{"X-Fizzy-Token": {passCredFizzy}}, wantStatus: 200, wantRole: "user"},
		{name: "missing", headers: auth("Bearer " + passCredFizzy), wantStatus: 401, wantCode: "unauthorized", wantChall: plain},
		{name: "twice", headers: map[string][]string{"X-Fizzy-Token": {"a", "b"}}, wantStatus: 400, wantCode: "invalid_request",
			wantChall: `Bearer realm="test", error="invalid_request"`},
	})
	if subjects["credential"] != subjects["same again"] || subjects["credential"] == subjects["another"] {
		t.Errorf("principal does not follow the credential: %v", subjects)
	}
	if subjects["credential"] != subjects2["credential"] {
		t.Errorf("the header the credential came in changed the principal: %q, %q", subjects["credential"], subjects2["credential"])
	}
	for _, l := range []string{logs, logs2} {
		if strings.Contains(l, passCredFizzy) {
			t.Errorf("logs hold the credential:\n%s", l)
		}
	}
}

func TestPassthroughCredentialInContext(t *testing.T) {
	p, _ := NewPassthrough(PassthroughOptions{Upstream: "fizzy"})
	h := Middleware(p, nil)(echoPrincipal)
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/mcp", nil)
	r.Header.Set("Authorization", "Bearer "+passCredFizzy)
	h.ServeHTTP(w, r)
	var m map[string]any
	json.Unmarshal(w.Body.Bytes(), &m)
	if m["cred_ok"] != true || m["cred_upstream"] != "fizzy" || m["cred_matches"] != true {
		t.Errorf("credential in context: %v", m)
	}
	if strings.Contains(m["subject"].(string), passCredFizzy) || strings.Contains(m["name"].(string), passCredFizzy) {
		t.Errorf("principal carries the credential: %v", m)
	}
}

type failing struct{}

func (failing) Authenticate(*http.Request) (principal.Principal, error) {
	return principal.Principal{}, errors.New("backend down")
}

func TestAuthenticatorFailureIs503(t *testing.T) {
	w := httptest.NewRecorder()
	Middleware(failing{}, &MiddlewareOptions{ResourceMetadata: "https://gw.example/.well-known/oauth-protected-resource/mcp"})(echoPrincipal).
		ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), "backend down") {
		t.Errorf("got %d %s", w.Code, w.Body)
	}
}

func TestChallengeResourceMetadata(t *testing.T) {
	got := challenge(`we"ird\realm`, "invalid_token", "https://gw.example/.well-known/oauth-protected-resource/mcp", "mcp tools")
	want := `Bearer realm="we\"ird\\realm", error="invalid_token", resource_metadata="https://gw.example/.well-known/oauth-protected-resource/mcp", scope="mcp tools"`
	if got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestAnonymous(t *testing.T) {
	w := httptest.NewRecorder()
	Middleware(Anonymous{}, nil)(echoPrincipal).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"name":"anonymous"`) {
		t.Errorf("got %d %s", w.Code, w.Body)
	}
}

func TestNewStaticRefuses(t *testing.T) {
	d := secret.Digest{1}
	tests := []struct {
		name   string
		tokens []Token
	}{
		{"none", nil},
		{"no user", []Token{{Digest: d}}},
		{"bad role", []Token{{User: "a", Role: "root", Digest: d}}},
		{"same digest twice", []Token{{User: "a", Digest: d}, {User: "b", Digest: d}}},
	}
	for _, tt := range tests {
		if _, err := NewStatic(tt.tokens); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

// TestStaticComparesInConstantTime checks the shape of Static.Authenticate:
// digests are compared with crypto/subtle, inside a loop that neither
// breaks nor returns early, so every digest is compared every time.
func TestStaticComparesInConstantTime(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "static.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var fn *ast.FuncDecl
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == "Authenticate" {
			fn = fd
		}
	}
	if fn == nil {
		t.Fatal("no Authenticate in static.go")
	}
	subtleCalls, loops := 0, 0
	ast.Inspect(fn, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			if id, ok := n.X.(*ast.Ident); ok && id.Name == "subtle" && n.Sel.Name == "ConstantTimeCompare" {
				subtleCalls++
			}
			if id, ok := n.X.(*ast.Ident); ok && id.Name == "bytes" {
				t.Errorf("Authenticate uses bytes.%s", n.Sel.Name)
			}
		case *ast.RangeStmt:
			loops++
			ast.Inspect(n.Body, func(m ast.Node) bool {
				switch m := m.(type) {
				case *ast.ReturnStmt:
					t.Error("the comparison loop returns early")
				case *ast.BranchStmt:
					t.Errorf("the comparison loop has a %s", m.Tok)
				case *ast.BinaryExpr:
					if m.Op == token.EQL || m.Op == token.NEQ {
						t.Errorf("the comparison loop compares with %s", m.Op)
					}
				}
				return true
			})
		}
		return true
	})
	if subtleCalls != 1 || loops != 1 {
		t.Errorf("got %d subtle.ConstantTimeCompare calls in %d loops, want 1 in 1", subtleCalls, loops)
	}
}
