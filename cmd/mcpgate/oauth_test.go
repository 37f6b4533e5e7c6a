package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/authserver"
	"github.com/mcpgate/mcpgate/internal/authserver/filestore"
)

// TestOAuthCommands: the operators' subcommands list and revoke what a
// file store holds, refuse the memory store, and make seal keys.
func TestOAuthCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "oauth.db")
	cfgFile := filepath.Join(dir, "mcpgate.yaml")
	writeConfig := func(store string) {
		t.Helper()
		err := os.WriteFile(cfgFile, []byte(`
auth:
  mode: oauth
  oauth:
    issuer: http://127.0.0.1:8080
    upstream: {issuer: "http://127.0.0.1:9", client_id: mcpgate}
    `+store+`
upstreams:
  - name: demo
    command: /bin/true
`), 0o600)
		if err != nil {
			t.Fatal(err)
		}
	}
	writeConfig("store: {type: file, path: " + db + "}")

	// What a running gateway would have stored.
	s, err := filestore.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	id := authserver.Identity{Issuer: "https://idp", Subject: "alice", Email: "alice@example.com", Role: "admin"}
	g := authserver.Grant{ID: "grant-1", ClientID: "app-1", Identity: id, Resource: "http://127.0.0.1:8080/mcp", Scopes: []string{"mcp"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	consent := g
	consent.ID, consent.Consent = g.ConsentID(), true
	for _, err := range []error{
		s.PutClient(ctx, authserver.Client{ID: "app-1", Name: "App One", RedirectURIs: []string{"http://127.0.0.1/cb"}, CreatedAt: now}),
		s.PutClient(ctx, authserver.Client{ID: "app-2", Name: "App Two", RedirectURIs: []string{"http://127.0.0.1/cb"}, CreatedAt: now}),
		s.PutGrant(ctx, g), s.PutGrant(ctx, consent),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	oauth := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(append([]string{"oauth"}, args...), strings.NewReader(""), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	steps := []struct {
		name     string
		args     []string
		wantCode int
		want     []string // in stdout
		dontWant []string
	}{
		{"clients", []string{"clients", "--config", cfgFile}, exitOK, []string{"app-1", "App One", "dynamic", "app-2"}, nil},
		{"grants", []string{"grants", "--config", cfgFile}, exitOK, []string{"grant-1", "consent:", "alice@example.com", "admin"}, nil},
		{"revoke grant", []string{"revoke-grant", "--config", cfgFile, "grant-1"}, exitOK, []string{"revoked grant-1"}, nil},
		{"grant and consent gone", []string{"grants", "--config", cfgFile}, exitOK, []string{"CLIENT_ID"}, []string{"grant-1", "consent:"}},
		{"revoke client", []string{"revoke-client", "--config", cfgFile, "app-2"}, exitOK, []string{"revoked app-2"}, nil},
		{"client gone", []string{"clients", "--config", cfgFile}, exitOK, []string{"app-1"}, []string{"app-2"}},
		{"missing config", []string{"clients"}, exitUsage, nil, nil},
		{"unknown", []string{"frobnicate", "--config", cfgFile}, exitUsage, nil, nil},
	}
	for _, st := range steps {
		code, out, errOut := oauth(st.args...)
		if code != st.wantCode {
			t.Fatalf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", st.name, code, st.wantCode, out, errOut)
		}
		for _, w := range st.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: stdout lacks %q:\n%s", st.name, w, out)
			}
		}
		for _, w := range st.dontWant {
			if strings.Contains(out, w) {
				t.Errorf("%s: stdout has %q:\n%s", st.name, w, out)
			}
		}
	}

	code, out, _ := oauth("gen-key")
	if k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(out)); code != exitOK || err != nil || len(k) != 32 {
		t.Errorf("gen-key: exit %d, %q decodes to %d bytes (%v)", code, out, len(k), err)
	}

	writeConfig("")
	if code, _, errOut := oauth("clients", "--config", cfgFile); code != exitFailure || !strings.Contains(errOut, "memory store") {
		t.Errorf("memory store: exit %d, %q", code, errOut)
	}
}
