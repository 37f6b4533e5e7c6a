package gateway

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/config"
)

// mcpgateBin is the mcpgate binary built for these tests; its demo-server
// subcommand is the demo upstream, run as a real subprocess.
var mcpgateBin string

// repoRoot is the repository's top directory.
var repoRoot string

func TestMain(m *testing.M) {
	if version := os.Getenv(sdkServerEnv); version != "" {
		os.Exit(runSDKServer(version)) // era_sdkupstream_test.go: this binary as a go-sdk upstream
	}
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	_, file, _, _ := runtime.Caller(0)
	repoRoot = filepath.Join(filepath.Dir(file), "..", "..")
	dir, err := os.MkdirTemp("", "mcpgate-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	mcpgateBin = filepath.Join(dir, "mcpgate")
	build := exec.Command("go", "build", "-o", mcpgateBin, "./cmd/mcpgate")
	build.Dir = repoRoot
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building mcpgate:", err)
		return 1
	}
	return m.Run()
}

// parseConfig builds a resolved configuration from YAML; DEMO stands for the
// demo-server command.
func parseConfig(t testing.TB, yaml string) *config.Config {
	t.Helper()
	yaml = strings.ReplaceAll(yaml, "DEMO", mcpgateBin)
	c, err := config.Parse([]byte(yaml), "test.yaml")
	if err != nil {
		t.Fatalf("parsing config: %v", err)
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("validating config: %v", err)
	}
	return c
}

const demoOnly = `
upstreams:
  - name: demo
    command: DEMO
    args: [demo-server]
`

// startGateway builds and starts a gateway on a loopback httptest server and
// returns the MCP endpoint URL and the gateway. Everything is stopped at
// the end of the test; the gateway's logs are shown if the test fails.
func startGateway(t *testing.T, cfg *config.Config) (string, *Gateway) {
	t.Helper()
	gw := startWith(t, cfg, nil)
	return gw.url, gw.g
}

// testWriter writes a subprocess's output into the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
