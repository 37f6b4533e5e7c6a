package main

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// TestDemoServerEra runs `mcpgate demo-server --era …` as a real
// subprocess: the modern era answers server/discover, the session era does
// not know it, and an unknown era is a usage error.
func TestDemoServerEra(t *testing.T) {
	const discover = `{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta":{` +
		`"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}` + "\n"
	tests := []struct {
		name     string
		args     []string
		wantExit int
		wantOut  string
	}{
		{"modern", []string{"--era", "modern"}, 0, `"supportedVersions":["2026-07-28"]`},
		{"by version", []string{"--era", "2026-07-28"}, 0, `"supportedVersions":["2026-07-28"]`},
		{"session era by default", nil, 0, `"code":-32601`},
		{"unknown era", []string{"--era", "future"}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin, append([]string{"demo-server"}, tt.args...)...)
			cmd.Stdin = strings.NewReader(discover) // EOF ends the server
			var out bytes.Buffer
			cmd.Stdout = &out
			err := cmd.Run()
			var exit *exec.ExitError
			switch {
			case tt.wantExit == 0 && err != nil:
				t.Fatalf("exit: %v", err)
			case tt.wantExit != 0 && (!errors.As(err, &exit) || exit.ExitCode() != tt.wantExit):
				t.Fatalf("exit = %v, want status %d", err, tt.wantExit)
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("output %q lacks %q", out.String(), tt.wantOut)
			}
		})
	}
}
