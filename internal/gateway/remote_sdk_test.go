package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/internal/upstream"
)

// sdkHTTPServer serves a go-sdk server speaking only version over
// Streamable HTTP on loopback, with two tools: "confirm", which asks the
// user through the SDK's multi-round-trip API (inputRequests in 2026,
// elicitation/create in the session era), and "where", whose region
// argument is bound to the Mcp-Param-Region header (x-mcp-header), which
// the SDK's server checks against the body in 2026.
func sdkHTTPServer(t *testing.T, version string) string {
	t.Helper()
	srv := mcp.NewServer(&mcp.Implementation{Name: "sdk-http-" + version, Version: "1"},
		&mcp.ServerOptions{SupportedProtocolVersions: []string{version}})
	srv.AddTool(&mcp.Tool{Name: "confirm", Description: "asks the user", InputSchema: map[string]any{"type": "object"}},
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			if res, ok := req.Params.InputResponses["ok"].(*mcp.ElicitResult); ok {
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: version + " user said " + res.Action}}}, nil
			}
			return &mcp.CallToolResult{InputRequests: mcp.InputRequestMap{"ok": &mcp.ElicitParams{
				Message:         "Proceed?",
				RequestedSchema: map[string]any{"type": "object", "properties": map[string]any{}},
			}}}, nil
		})
	srv.AddTool(&mcp.Tool{Name: "where", Description: "echoes its region", InputSchema: map[string]any{
		"type": "object", "required": []string{"region"},
		"properties": map[string]any{"region": map[string]any{"type": "string", "x-mcp-header": "Region"}},
	}}, func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "region " + string(req.Params.Arguments)}}}, nil
	})
	// The SDK's HTTP handler serves 2026-07-28 only when stateless; a
	// stateful one answers server/discover with no supportedVersions,
	// which the probe takes for a session-era server.
	hs := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{Stateless: version == "2026-07-28"}))
	t.Cleanup(hs.Close)
	return hs.URL
}

// TestRemoteSDKServers: one gateway in front of two go-sdk servers over
// Streamable HTTP, one 2026-07-28 only (found modern by the probe), one
// 2025-11-25 only (found session-era); a 2026 and a 2025 SDK client each
// call both: elicitation through InputRequiredResult or a server→client
// request as each pair of eras needs, and the x-mcp-header tool whose
// header the 2026 SDK server insists on.
func TestRemoteSDKServers(t *testing.T) {
	front := startWith(t, parseConfig(t, fmt.Sprintf(`
upstreams:
  - name: sdk26
    type: http
    url: %s
  - name: sdk25
    type: http
    url: %s
`, sdkHTTPServer(t, "2026-07-28"), sdkHTTPServer(t, "2025-11-25"))), nil)
	for name, want := range map[string]upstream.Era{"sdk26": upstream.EraModern, "sdk25": upstream.EraSession} {
		conn, _ := front.g.pool.Get(name)
		if info := conn.Info(); info == nil || info.Era != want {
			t.Fatalf("upstream %s: info %+v, want era %q", name, info, want)
		}
	}
	elicit := func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		return &mcp.ElicitResult{Action: "accept", Content: map[string]any{}}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, version := range []string{"2026-07-28", "2025-11-25"} {
		cs := connectSDK(t, front.url, version, &mcp.ClientOptions{ElicitationHandler: elicit}, nil)
		// The 2026 SDK client mirrors x-mcp-header arguments of the tools
		// it has listed.
		if _, err := cs.ListTools(ctx, nil); err != nil {
			t.Fatalf("%s: tools/list: %v", version, err)
		}
		cases := []struct {
			tool string
			args map[string]any
			want string
		}{
			{"sdk26__confirm", nil, "2026-07-28 user said accept"},
			{"sdk25__confirm", nil, "2025-11-25 user said accept"},
			{"sdk26__where", map[string]any{"region": "eu-" + version}, `"eu-` + version},
			{"sdk26__where", map[string]any{"region": "Zürich"}, "Zürich"},
		}
		for _, c := range cases {
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: c.tool, Arguments: c.args})
			if err != nil || res.IsError || !strings.Contains(textOf(t, res), c.want) {
				t.Errorf("%s: %s(%v) = %v %+v, want %q", version, c.tool, c.args, err, res, c.want)
			}
		}
	}
}
