package config

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpgate/mcpgate/internal/secret"
)

const testDigest = "sha256:1a481d19b46f06048ff6051d3e89053bba986cfd869a79e8d8edaa954c20f2ce"

func TestValidateSecurity(t *testing.T) {
	static := func(c *Config) { c.Auth = Auth{Mode: AuthStatic, Tokens: []Token{{User: "alice", Hash: testDigest}}} }
	passthrough := func(c *Config) {
		c.Auth = Auth{Mode: AuthPassthrough, Passthrough: Passthrough{Upstream: "fs"}}
		c.Upstreams[0].PerUser = true
		c.Upstreams[0].Credential = Credential{Type: CredentialPassthrough, Env: "FS_TOKEN"}
	}
	tests := []validateCase{
		{name: "static is valid", change: static},
		{name: "passthrough is valid", change: passthrough},
		{name: "passthrough with a header is valid", change: func(c *Config) {
			passthrough(c)
			c.Auth.Passthrough.Header = "X-Fizzy-Token"
		}},
		{name: "public hosts and origins are valid", change: func(c *Config) {
			c.PublicHosts = []string{"mcp.example.com", "mcp.example.com:8443", "[2001:db8::1]"}
			c.AllowedOrigins = Origins{"https://app.example.com", "http://localhost:6274"}
		}},
		{name: "unknown mode", change: func(c *Config) { c.Auth.Mode = "kerberos" },
			want: []string{`auth.mode: unknown mode "kerberos" (want "none", "static", "passthrough" or "oauth")`}},
		{name: "bad realm", change: func(c *Config) { c.Auth.Realm = `a"b` },
			want: []string{"auth.realm: must not contain quotes, backslashes or control characters"}},
		{name: "static without tokens", change: func(c *Config) { c.Auth.Mode = AuthStatic },
			want: []string{`auth.tokens: at least one token is required with mode "static"`}},
		{name: "tokens without static", change: func(c *Config) { static(c); c.Auth.Mode = AuthNone },
			want: []string{`auth.tokens: tokens are used only with mode "static"`}},
		{name: "bad tokens", change: func(c *Config) {
			c.Auth = Auth{Mode: AuthStatic, Tokens: []Token{
				{Hash: testDigest},
				{User: "a b", Role: "root", Hash: "env:OK"},
				{User: "carol", Hash: "plain-text-token-0123456789abc"},
				{User: "dave", Hash: "sha256:abc"},
				{User: "erin", Hash: SecretRef(strings.ToUpper(testDigest[:7]) + testDigest[7:])},
				{User: "frank", Hash: SecretRef(testDigest[:7] + strings.ToUpper(testDigest[7:]))},
				{User: "gina", Hash: "env:9BAD"},
				{User: "hal"},
				{User: "carol", Role: "admin", Hash: "env:CAROL2"},
			}}
		}, want: []string{
			"auth.tokens[0].user: required",
			`auth.tokens[1].user: "a b": want 1 to 64 characters of A-Z a-z 0-9 . _ @ -`,
			`auth.tokens[1].role: unknown role "root" (want "admin", "user" or "readonly")`,
			`auth.tokens[2].hash: want "sha256:<64 hex digits>" (run mcpgate hash-token) or "env:NAME"; tokens are never written in the configuration`,
			`auth.tokens[3].hash: want "sha256:" followed by 64 hex digits, got 3 characters after the prefix`,
			`auth.tokens[4].hash: want "sha256:<64 hex digits>" (run mcpgate hash-token) or "env:NAME"; tokens are never written in the configuration`,
			`auth.tokens[5].hash: the same token as auth.tokens[0]`,
			`auth.tokens[6].hash: "env:9BAD": not a valid environment variable name`,
			`auth.tokens[7].hash: required: "sha256:<hex>" (run mcpgate hash-token) or "env:NAME"`,
			`auth.tokens[8].role: user "carol" has tokens with roles "user" and "admin"; give a user one role`,
		}},
		{name: "passthrough without upstream", change: func(c *Config) { c.Auth.Mode = AuthPassthrough },
			want: []string{`auth.passthrough.upstream: required with mode "passthrough"`}},
		{name: "passthrough to an unknown upstream", change: func(c *Config) {
			passthrough(c)
			c.Auth.Passthrough.Upstream = "nope"
		}, want: []string{
			`auth.passthrough.upstream: no upstream named "nope"`,
			`upstreams[0].credential.type: "passthrough" needs auth.mode "passthrough" with auth.passthrough.upstream "fs"`,
		}},
		{name: "passthrough to an upstream without a passthrough credential", change: func(c *Config) {
			c.Auth = Auth{Mode: AuthPassthrough, Passthrough: Passthrough{Upstream: "fs", Header: "bad header"}}
		}, want: []string{
			`auth.passthrough.header: "bad header" is not a valid header name`,
			`auth.passthrough.upstream: upstream "fs" must have credential type "passthrough"`,
		}},
		{name: "passthrough settings without passthrough", change: func(c *Config) {
			static(c)
			c.Auth.Passthrough.Upstream = "fs"
		}, want: []string{`auth.passthrough: used only with mode "passthrough"`}},
		{name: "bad hosts and origins", change: func(c *Config) {
			c.PublicHosts = []string{"https://mcp.example.com", "*.example.com", ""}
			c.AllowedOrigins = Origins{"*", "null", "https://app.example.com/path", "app.example.com"}
		}, want: []string{
			`public_hosts[0]: "https://mcp.example.com": want a host name ("mcp.example.com" or "mcp.example.com:8443"), not a URL`,
			`public_hosts[1]: "*.example.com": want a host name ("mcp.example.com" or "mcp.example.com:8443")`,
			`public_hosts[2]: "": empty`,
			`allowed_origins[0]: "*": "*" is not allowed: list each origin`,
			`allowed_origins[1]: "null": want "scheme://host[:port]" with scheme http or https, such as "https://app.example.com"`,
			`allowed_origins[2]: "https://app.example.com/path": want "scheme://host[:port]" with scheme http or https, such as "https://app.example.com"`,
			`allowed_origins[3]: "app.example.com": want "scheme://host[:port]" with scheme http or https, such as "https://app.example.com"`,
		}},
		{name: "negative limits", change: func(c *Config) {
			c.Sessions.MaxPerUser = -1
			c.CORS.MaxAge = -time.Second
			c.Limits = Limits{RequestsPerMinute: -1, MaxConcurrentCallsPerSession: -1, MaxProcesses: -1, MaxProcessesPerUser: -1}
		}, want: []string{
			"cors.max_age: must not be negative, got -1s",
			"sessions.max_per_user: must not be negative, got -1",
			"limits.requests_per_minute: must not be negative, got -1",
			"limits.max_concurrent_calls_per_session: must not be negative, got -1",
			"limits.max_processes: must not be negative, got -1",
			"limits.max_processes_per_user: must not be negative, got -1",
		}},
		{name: "fewer processes than shared upstreams", change: func(c *Config) {
			c.Upstreams = append(c.Upstreams, Upstream{Name: "b", Command: "b"}, Upstream{Name: "c", Command: "c", Disabled: true})
			c.Limits.MaxProcesses = 1
		}, want: []string{"limits.max_processes: 1 is fewer than the 2 shared stdio upstreams"}},
		{name: "credentials", change: func(c *Config) {
			c.Upstreams = []Upstream{
				{Name: "a", Command: "a", Credential: Credential{Type: "vault"}},
				{Name: "b", Command: "b", Credential: Credential{Type: CredentialStatic, Env: "B"}},
				{Name: "c", Command: "c", Credential: Credential{Type: CredentialStatic, Value: "hunter2-literal", Env: "C"}},
				{Name: "d", Command: "d", Credential: Credential{Type: CredentialPerUser, Env: "D"}},
				{Name: "e", Command: "e", Credential: Credential{Type: CredentialPerUser, Env: "E",
					Users: map[string]SecretRef{"alice": "env:E_ALICE", "bad user": "env:X", "bob": "literal"}}},
				{Name: "f", Command: "f", PerUser: true, Credential: Credential{Type: CredentialPassthrough, Env: "F"}},
				{Name: "g", Command: "g", Env: map[string]string{"G": "x"}, Credential: Credential{Type: CredentialStatic, Value: "file:/s", Env: "G"}},
				{Name: "h", Command: "h", Credential: Credential{Type: CredentialStatic, Value: "env:H", Header: "X-Token"}},
				{Name: "i", Command: "i", Credential: Credential{Value: "env:I", Env: "I"}},
				{Name: "j", Command: "j", Credential: Credential{Type: CredentialStatic, Value: "env:J", Env: "J",
					Users: map[string]SecretRef{"alice": "env:X"}}},
			}
		}, want: []string{
			`upstreams[0].credential.type: unknown type "vault" (want "none", "static", "per_user", "passthrough" or "oauth")`,
			`upstreams[1].credential.value: required with type "static": "env:NAME" or "file:/path"`,
			`upstreams[2].credential.value: want "env:NAME" or "file:/path"; secrets are never written in the configuration`,
			`upstreams[3].credential.users: required with type "per_user": user name → "env:NAME" or "file:/path"`,
			`upstreams[3].credential.type: "per_user" gives each user their own credential, so the stdio upstream needs per_user: true (one process per user)`,
			`upstreams[4].credential.users: "bad user" is not a user name`,
			`upstreams[4].credential.users.bob: want "env:NAME" or "file:/path"; secrets are never written in the configuration`,
			`upstreams[4].credential.type: "per_user" gives each user their own credential, so the stdio upstream needs per_user: true (one process per user)`,
			`upstreams[5].credential.type: "passthrough" needs auth.mode "passthrough" with auth.passthrough.upstream "f"`,
			`upstreams[6].credential.env: "G" is also set in env`,
			`upstreams[7].credential.env: required for a stdio upstream: the environment variable the credential is set in`,
			`upstreams[7].credential.header: used only by remote upstreams; a stdio upstream gets the credential in env`,
			`upstreams[8].credential: type is "none", but value, users, env or header is set`,
			`upstreams[9].credential.users: used only with type "per_user"`,
		}},
	}
	runValidateCases(t, tests)
}

func TestIsLoopbackListen(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "127.9.9.9:1": true, "[::1]:8080": true, "localhost:0": true, "LocalHost:1": true,
		":8080": false, "0.0.0.0:8080": false, "[::]:8080": false, "10.0.0.1:8080": false, "mcp.example.com:443": false,
		"nonsense": false,
	} {
		if got := IsLoopbackListen(addr); got != want {
			t.Errorf("IsLoopbackListen(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestInsecure(t *testing.T) {
	c := valid()
	c.SetDefaults()
	if got := c.Insecure(); got != nil {
		t.Errorf("loopback defaults: %v", got)
	}
	c.Listen, c.InsecureAllowUnprotectedNetwork = "0.0.0.0:8080", true
	if got := c.Insecure(); len(got) != 3 {
		t.Errorf("open listener: %q, want 3 warnings", got)
	}
	c.Auth = Auth{Mode: AuthStatic, Tokens: []Token{{User: "a", Hash: testDigest}}}
	c.AllowedOrigins, c.PublicHosts = Origins{}, []string{"mcp.example.com"}
	if got := c.Insecure(); got != nil {
		t.Errorf("protected listener: %v", got)
	}
}

func TestOriginsNilAndEmptySurviveYAML(t *testing.T) {
	for _, in := range []string{"upstreams: [{name: a, command: a}]\n", "allowed_origins: []\nupstreams: [{name: a, command: a}]\n"} {
		c, err := Parse([]byte(in), "t.yaml")
		if err != nil {
			t.Fatal(err)
		}
		wantNil := !strings.Contains(in, "allowed_origins")
		if (c.AllowedOrigins == nil) != wantNil {
			t.Errorf("%q: AllowedOrigins nil = %v", in, c.AllowedOrigins == nil)
		}
	}
}

func TestSecretRefPrinting(t *testing.T) {
	for ref, want := range map[SecretRef]string{"env:X": "env:X", "file:/s": "file:/s", testDigest: "sha256:REDACTED", "literal": "REDACTED", "": ""} {
		if got := fmt.Sprint(ref); got != want {
			t.Errorf("Sprint(%s) = %q, want %q", want, got, want)
		}
		var b strings.Builder
		slog.New(slog.NewTextHandler(&b, nil)).Info("m", "ref", ref, "cfg", Token{Hash: ref})
		if ref != "" && strings.Contains(b.String(), "1a481d19") {
			t.Errorf("log shows a digest: %s", b.String())
		}
	}
}

func TestResolveSecrets(t *testing.T) {
	const (
		token     = "mcpgate_resolved-token-0123456789abcdef"
		fsSecret  = "fs-secret-value-77"
		aliceSecr = "alice-file-secret-88"
	)
	env := map[string]string{
		"TOKEN": token, "DIGEST": testDigest, "SHORT": "short-secret", "FS": fsSecret, "EMPTY": "",
	}
	files := map[string]string{"/run/alice": aliceSecr + "\n", "/run/empty": "\n"}
	r := SecretReader{
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		ReadFile: func(p string) ([]byte, error) {
			if v, ok := files[p]; ok {
				return []byte(v), nil
			}
			return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
		},
	}
	good := func() *Config {
		return &Config{
			Auth: Auth{Mode: AuthStatic, Tokens: []Token{{User: "a", Hash: "env:TOKEN"}, {User: "b", Hash: "env:DIGEST"}}},
			Upstreams: []Upstream{
				{Name: "fs", Command: "x", Credential: Credential{Type: CredentialStatic, Value: "env:FS", Env: "T"}},
				{Name: "git", Command: "x", PerUser: true, Credential: Credential{Type: CredentialPerUser, Env: "T",
					Users: map[string]SecretRef{"alice": "file:/run/alice"}}},
				{Name: "off", Command: "x", Disabled: true, Credential: Credential{Type: CredentialStatic, Value: "env:MISSING", Env: "T"}},
			},
		}
	}
	c := good()
	if err := c.ResolveSecrets(r); err != nil {
		t.Fatalf("ResolveSecrets: %v", err)
	}
	want, _ := secret.ParseDigest(testDigest)
	if c.Auth.Tokens[0].Digest != secret.DigestOf(token) || c.Auth.Tokens[1].Digest != want {
		t.Error("token digests not resolved")
	}
	if c.Upstreams[0].Credential.Secret.Reveal() != fsSecret || c.Upstreams[1].Credential.UserSecrets["alice"].Reveal() != aliceSecr {
		t.Error("credentials not resolved")
	}

	bad := good()
	bad.Auth.Tokens = []Token{{User: "a", Hash: "env:NOPE"}, {User: "b", Hash: "env:SHORT"}, {User: "c", Hash: "env:EMPTY"}}
	bad.Upstreams[0].Credential.Value = "file:/run/missing"
	bad.Upstreams[1].Credential.Users = map[string]SecretRef{"alice": "file:/run/empty", "bob": "env:NOPE"}
	err := bad.ResolveSecrets(r)
	var got []string
	for _, p := range AsProblems(err) {
		got = append(got, p.Error())
	}
	wantProblems := []string{
		"auth.tokens[0].hash: $NOPE is not set",
		"auth.tokens[1].hash: $SHORT: token is shorter than 24 characters; make one with `mcpgate hash-token --new`",
		"auth.tokens[2].hash: $EMPTY is not set",
		"upstreams[0].credential.value: reading /run/missing: no such file",
		"upstreams[1].credential.users.alice: reading /run/empty: empty",
		"upstreams[1].credential.users.bob: $NOPE is not set",
	}
	if diff := cmp.Diff(wantProblems, got); diff != "" {
		t.Errorf("problems mismatch (-want +got):\n%s", diff)
	}
}

// TestResolveLocatesSecretProblems runs Resolve on a file whose token
// names an unset variable: the problem carries the file and line.
func TestResolveLocatesSecretProblems(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gw.yaml")
	if err := os.WriteFile(path, []byte("auth:\n  mode: static\n  tokens:\n    - user: a\n      hash: env:MCPGATE_TEST_UNSET\nupstreams:\n  - name: a\n    command: a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Resolve(Source{ConfigFile: path, LookupEnv: func(string) (string, bool) { return "", false }})
	want := path + ":5: auth.tokens[0].hash: $MCPGATE_TEST_UNSET is not set"
	if ps := AsProblems(err); len(ps) != 1 || ps[0].Error() != want {
		t.Errorf("Resolve: %v, want %q", err, want)
	}
	var p *Problem
	if !errors.As(err, &p) {
		t.Error("not a Problem")
	}
}
