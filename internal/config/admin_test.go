package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpgate/mcpgate/internal/secret"
)

func TestAdmin(t *testing.T) {
	base := func() *Config {
		return &Config{Upstreams: []Upstream{{Name: "fs", Command: "x"}}}
	}
	tests := []struct {
		name       string
		change     func(c *Config)
		wantListen string
		want       []string
	}{
		{name: "off by default", change: func(c *Config) {}},
		{name: "a digest turns it on at the default address", change: func(c *Config) { c.Admin.Token = testDigest },
			wantListen: DefaultAdminListen},
		{name: "env reference and own address", change: func(c *Config) { c.Admin = Admin{Token: "env:ADMIN_TOKEN", Listen: "127.0.0.1:9100"} },
			wantListen: "127.0.0.1:9100"},
		{name: "listen without a token", change: func(c *Config) { c.Admin.Listen = "127.0.0.1:9100" },
			wantListen: "127.0.0.1:9100",
			want:       []string{`admin.listen: set, but admin.token is not: the admin listener needs a token ("sha256:<hex>" from mcpgate hash-token, or "env:NAME")`}},
		{name: "plaintext token refused", change: func(c *Config) { c.Admin.Token = "hunter2-hunter2-hunter2-hunter2" },
			wantListen: DefaultAdminListen,
			want:       []string{`admin.token: want "sha256:<64 hex digits>" (run mcpgate hash-token) or "env:NAME"; tokens are never written in the configuration`}},
		{name: "short digest", change: func(c *Config) { c.Admin.Token = "sha256:abcd" },
			wantListen: DefaultAdminListen,
			want:       []string{`admin.token: want "sha256:" followed by 64 hex digits, got 4 characters after the prefix`}},
		{name: "bad env name", change: func(c *Config) { c.Admin.Token = "env:1X" },
			wantListen: DefaultAdminListen,
			want:       []string{`admin.token: "env:1X": not a valid environment variable name`}},
		{name: "same address as the MCP listener", change: func(c *Config) {
			c.Listen = "127.0.0.1:7000"
			c.Admin = Admin{Token: testDigest, Listen: "127.0.0.1:7000"}
		}, wantListen: "127.0.0.1:7000",
			want: []string{`admin.listen: "127.0.0.1:7000" is the MCP listener's address; the admin listener needs its own`}},
		{name: "a client's token", change: func(c *Config) {
			c.Auth = Auth{Mode: AuthStatic, Tokens: []Token{{User: "alice", Hash: testDigest}}}
			c.Admin.Token = testDigest
		}, wantListen: DefaultAdminListen,
			want: []string{"admin.token: the same token as auth.tokens[0]; the admin token must be a token of its own"}},
		{name: "pprof on the admin listener", change: func(c *Config) { c.Admin = Admin{Token: testDigest, PProf: true} },
			wantListen: DefaultAdminListen},
		{name: "pprof without a token", change: func(c *Config) { c.Admin.PProf = true },
			want: []string{"admin.pprof: set, but admin.token is not: profiling is served only on the admin listener, which needs a token"}},
		{name: "bad listen", change: func(c *Config) { c.Admin = Admin{Token: testDigest, Listen: "localhost"} },
			wantListen: "localhost",
			want:       []string{`admin.listen: "localhost" is not host:port: address localhost: missing port in address`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.change(c)
			c.SetDefaults()
			if c.Admin.Listen != tt.wantListen {
				t.Errorf("admin.listen = %q, want %q", c.Admin.Listen, tt.wantListen)
			}
			if diff := cmp.Diff(tt.want, problems(t, c)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveAdminToken(t *testing.T) {
	const token = "mcpgate_admin-token-0123456789abcdef"
	env := map[string]string{"ADMIN": token, "SHORT": "short"}
	r := SecretReader{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	tests := []struct {
		ref     SecretRef
		want    secret.Digest
		problem string
	}{
		{ref: "env:ADMIN", want: secret.DigestOf(token)},
		{ref: testDigest, want: func() secret.Digest { d, _ := secret.ParseDigest(testDigest); return d }()},
		{ref: "env:UNSET", problem: "admin.token: $UNSET is not set"},
		{ref: "env:SHORT", problem: "admin.token: $SHORT: token is shorter than 24 characters; make one with `mcpgate hash-token --new`"},
	}
	for _, tt := range tests {
		c := &Config{Admin: Admin{Token: tt.ref}}
		err := c.ResolveSecrets(r)
		var got string
		if ps := AsProblems(err); len(ps) > 0 {
			got = ps[0].Error()
		}
		if got != tt.problem || tt.problem == "" && c.Admin.Digest != tt.want {
			t.Errorf("%s: problem %q, want %q", tt.ref, got, tt.problem)
		}
	}
}
