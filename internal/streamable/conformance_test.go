package streamable

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/httpkit"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/mcpsession/mcpsessiontest"
)

// transportScenarios are the conformance scenarios that exercise the
// transport rather than MCP features the fake core lacks.
var transportScenarios = []string{"server-initialize", "ping", "server-sse-multiple-streams", "server-sse-polling", "dns-rebinding-protection"}

// TestConformance runs the transport scenarios of the official conformance
// suite (npm @modelcontextprotocol/conformance, which needs Node 22) against
// the handler behind a loopback Host/Origin guard. It is skipped when the
// suite is not installed.
func TestConformance(t *testing.T) {
	modules := mcpsessiontest.InteropModules(t)
	node := filepath.Join(modules, "node22/bin/node")
	cli := filepath.Join(modules, "conformance-0.1/dist/index.js")
	for _, p := range []string{node, cli} {
		if _, err := os.Stat(p); err != nil {
			mcpsessiontest.SkipUnlessCI(t, "conformance suite not installed (npm ci in interop/): %v", err)
		}
	}
	guard, err := httpkit.NewGuard(httpkit.GuardOptions{Loopback: true, WriteError: WriteError})
	if err != nil {
		t.Fatal(err)
	}
	srv := mcpsessiontest.NewEnv(t, nil, func(hub *mcpsession.Hub) http.Handler {
		return httpkit.Chain(httpkit.Edge(nil), guard.Handler)(New(hub, nil))
	}).Srv

	for _, sc := range transportScenarios {
		t.Run(sc, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, cli, "server", "--url", srv.URL+"/mcp", "--scenario", sc)
			cmd.Dir = t.TempDir() // results/ goes here
			out, err := cmd.CombinedOutput()
			if err != nil || strings.Contains(string(out), "FAILURE") {
				t.Errorf("scenario %s: %v\n%s", sc, err, out)
			} else {
				t.Logf("%s", out)
			}
		})
	}
}
