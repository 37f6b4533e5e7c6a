package authserver

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/authserver/oidctest"
)

// TestConformanceAuthorization runs the official MCP conformance suite's
// authorization-server scenarios (npm @modelcontextprotocol/conformance
// 0.2, on the Node 22 of interop/) against the issuer. The code-grant
// scenario prints an authorization URL and waits for its callback; the
// test plays the user: mcpgate's consent, the upstream login.
func TestConformanceAuthorization(t *testing.T) {
	t.Parallel()
	interop, _ := filepath.Abs("../../interop")
	node := filepath.Join(interop, "node_modules", "node22", "bin", "node")
	cli := filepath.Join(interop, "node_modules", "conformance-0.2", "dist", "index.js")
	for _, p := range []string{node, cli} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%s is not installed (cd interop && npm ci)", p)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close() // the suite listens there for the callback
	callback := "http://127.0.0.1:" + port + "/callback"
	h := newHarness(t, StaticClient{ID: "conformance", Name: "MCP conformance suite", RedirectURIs: []string{callback}})
	// Without --scenario the suite runs all of them in order; the code
	// grant reads the metadata scenario's result.
	{
		{
			cmd := exec.Command(node, cli, "authorization", "--url", h.srv.URL,
				"--client-id", "conformance", "--resource", h.srv.URL+"/mcp", "--port", port, "--output-dir", t.TempDir())
			cmd.Dir = interop
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = cmd.Stdout
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var log strings.Builder
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				line := sc.Text()
				log.WriteString(line + "\n")
				if strings.HasPrefix(line, h.srv.URL+"/authorize?") {
					b := oidctest.NewBrowser()
					loc := oidctest.Login(t, b, line, "alice", callback)
					resp, err := b.Get(loc.String()) // deliver the code to the suite
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
				}
			}
			err = cmd.Wait()
			text := log.String()
			if err != nil || strings.Contains(text, "FAILURE") || !regexp.MustCompile(`Total: [1-9]\d* passed, 0 failed`).MatchString(text) {
				t.Errorf("conformance: %v\n%s", err, text)
			} else {
				t.Logf("conformance:\n%s", text)
			}
		}
	}
}
