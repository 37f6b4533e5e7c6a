package config

import (
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidateRemoteCredentials(t *testing.T) {
	tests := []struct {
		name string
		u    Upstream
		auth Auth
		want []string
	}{
		{
			name: "static credential in the default header",
			u:    Upstream{Name: "web", Type: "http", URL: "https://h/mcp", Credential: Credential{Type: CredentialStatic, Value: "env:K"}},
		},
		{
			name: "per_user on a remote upstream",
			u: Upstream{Name: "web", Type: "http", URL: "https://h/mcp", PerUser: true,
				Credential: Credential{Type: CredentialPerUser, Header: "X-Api-Key", Users: map[string]SecretRef{"alice": "env:A"}}},
		},
		{
			name: "per_user credential needs per_user",
			u: Upstream{Name: "web", Type: "sse", URL: "https://h/sse",
				Credential: Credential{Type: CredentialPerUser, Users: map[string]SecretRef{"alice": "env:A"}}},
			want: []string{`upstreams[0].credential.type: "per_user" gives each user their own credential, so the remote upstream needs per_user: true (one connection per user)`},
		},
		{
			name: "env is for stdio, and a header may not repeat the credential's",
			u: Upstream{Name: "web", Type: "http", URL: "https://h/mcp", Headers: map[string]string{"authorization": "x"},
				Credential: Credential{Type: CredentialStatic, Value: "env:K", Env: "K"}},
			want: []string{
				`upstreams[0].headers.authorization: is the credential header (credential.header); the credential sets it`,
				`upstreams[0].credential.env: used only by stdio upstreams`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{Auth: tt.auth, Upstreams: []Upstream{tt.u}}
			if diff := cmp.Diff(tt.want, problems(t, c)); diff != "" {
				t.Errorf("problems mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveHeaderSecrets(t *testing.T) {
	env := map[string]string{"API_KEY": "key-123"}
	r := SecretReader{
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		ReadFile: func(p string) ([]byte, error) {
			return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
		},
	}
	c := &Config{Upstreams: []Upstream{{Name: "web", Type: "http", URL: "https://h/mcp",
		Headers: map[string]string{"X-Api-Key": "env:API_KEY", "X-Team": "blue"}}}}
	if err := c.ResolveSecrets(r); err != nil {
		t.Fatalf("ResolveSecrets: %v", err)
	}
	hs := c.Upstreams[0].HeaderSecrets
	if hs["X-Api-Key"].Reveal() != "key-123" || hs["X-Team"].Reveal() != "blue" {
		t.Errorf("HeaderSecrets not resolved")
	}
	c.Upstreams[0].Headers["X-Other"] = "file:/missing"
	err := c.ResolveSecrets(r)
	want := "upstreams[0].headers.X-Other: reading /missing: no such file"
	if ps, ok := err.(Problems); !ok || len(ps) != 1 || ps[0].Error() != want {
		t.Errorf("ResolveSecrets = %v, want %s", err, want)
	}
}
