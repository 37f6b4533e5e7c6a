// Package oidctest runs a real upstream OpenID provider for tests: npm
// oidc-provider (interop/package.json) as a node subprocess, configured by
// oidc-provider.mjs next to this file, with one confidential client
// ("mcpgate") and the accounts alice (group admins) and bob (group
// readers). Its development login page takes any password.
package oidctest

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The upstream client of the provider.
const (
	ClientID     = "mcpgate"
	ClientSecret = "mcpgate-upstream-secret"
)

// Start runs the provider with callback as its client's redirect URI and
// returns its issuer. The test is skipped when interop/node_modules lacks
// oidc-provider. The process stops when the test ends (stdin closed, then
// killed if it lingers).
func Start(t testing.TB, callback string) string {
	t.Helper()
	return StartWith(t, callback, Options{})
}

// Options configures StartWith.
type Options struct {
	// AccessTokenTTL is the lifetime of the access tokens the provider
	// issues. Zero means its default (one hour).
	AccessTokenTTL time.Duration
}

// StartWith is Start with options.
func StartWith(t testing.TB, callback string, o Options) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	interop := filepath.Join(dir, "..", "..", "..", "interop")
	if _, err := os.Stat(filepath.Join(interop, "node_modules", "oidc-provider")); err != nil {
		t.Skip("interop/node_modules/oidc-provider is not installed (cd interop && npm ci)")
	}
	cmd := exec.Command("node", filepath.Join(dir, "oidc-provider.mjs"))
	cmd.Env = append(os.Environ(), "INTEROP_DIR="+interop, "OIDC_REDIRECT_URI="+callback, "OIDC_PORT=0")
	if o.AccessTokenTTL > 0 {
		cmd.Env = append(cmd.Env, "OIDC_ACCESS_TOKEN_TTL="+strconv.Itoa(int(o.AccessTokenTTL.Seconds())))
	}
	cmd.Stderr = io.Discard
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting oidc-provider: %v", err)
	}
	br := bufio.NewReader(stdout)
	line, err := br.ReadString('\n')
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, br); close(done) }() // ends when the process exits
	t.Cleanup(func() {
		stdin.Close()
		timer := time.AfterFunc(5*time.Second, func() { cmd.Process.Kill() })
		<-done
		cmd.Wait()
		timer.Stop()
	})
	if err != nil || !strings.HasPrefix(line, "listening ") {
		t.Fatalf("oidc-provider did not start: %q, %v", line, err)
	}
	return strings.TrimSpace(strings.TrimPrefix(line, "listening "))
}
