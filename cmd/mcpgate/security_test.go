package main

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/secret"
)

func TestHashToken(t *testing.T) {
	const tok = "mcpgate_cmd-test-token-0123456789abcdef"
	want, _ := secret.HashToken(tok)
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantExit   int
		wantStdout string // exact, or "" to skip
	}{
		{"from stdin", nil, tok + "\n", 0, want + "\n"},
		{"CRLF", nil, tok + "\r\n", 0, want + "\n"},
		{"no newline", nil, tok, 0, want + "\n"},
		{"too short", nil, "short\n", 2, ""},
		{"token as an argument", []string{tok}, "", 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"hash-token"}, tt.args...), strings.NewReader(tt.stdin), &stdout, &stderr)
			if code != tt.wantExit {
				t.Fatalf("exit %d, want %d; stderr %s", code, tt.wantExit, stderr.String())
			}
			if tt.wantStdout != "" && stdout.String() != tt.wantStdout {
				t.Errorf("stdout %q, want %q", stdout.String(), tt.wantStdout)
			}
			if strings.Contains(stderr.String(), tok) {
				t.Errorf("stderr repeats the token")
			}
		})
	}
	t.Run("new", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if code := run([]string{"hash-token", "--new"}, strings.NewReader(""), &stdout, &stderr); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		var tok, hash string
		for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
			if v, ok := strings.CutPrefix(l, "token: "); ok {
				tok = v
			}
			if v, ok := strings.CutPrefix(l, "hash:  "); ok {
				hash = v
			}
		}
		if h, err := secret.HashToken(tok); err != nil || h != hash {
			t.Errorf("token %q and hash %q do not match: %v", tok, hash, err)
		}
	})
}

// TestNetworkListenerWithoutProtectionRefusesToStart: listening beyond
// loopback without client authentication and an origin allowlist is a
// configuration error (exit 2), unless the insecure option is set.
func TestNetworkListenerWithoutProtectionRefusesToStart(t *testing.T) {
	cmd := exec.Command(bin, "serve", "--listen", "0.0.0.0:0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("exit = %v, want status 2; stderr:\n%s", err, stderr.String())
	}
	for _, want := range []string{"auth.mode", "client authentication is required", "allowed_origins", "insecure_allow_unprotected_network"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr does not mention %q:\n%s", want, stderr.String())
		}
	}
}
