package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/sse/ssetest"
)

// connectLegacy connects the Go SDK's client over the 2024-11-05 HTTP+SSE
// transport (GET /sse, POST /messages).
func connectLegacy(t *testing.T, base, version string, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "sdk-legacy-test", Version: "1"}, opts)
	// The SDK's SSE stream lives on the context given to Connect: it must
	// outlive the connection step.
	cs, err := client.Connect(t.Context(), &mcp.SSEClientTransport{Endpoint: base + "/sse"}, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connecting SDK client over /sse (%s): %v", version, err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func toolNames(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatalf("tools/list: %v", err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	return names
}

// TestLegacyClient: a 2024-11-05 client on /sse gets 2024-11-05, the demo
// upstream's tools, and no capability newer than its revision
// ("completions", which a 2025-06-18 client on /mcp does get).
func TestLegacyClient(t *testing.T) {
	endpoint, g := startGateway(t, parseConfig(t, demoOnly))
	base := strings.TrimSuffix(endpoint, "/mcp")
	old := connectLegacy(t, base, "2024-11-05", nil)
	if got := old.InitializeResult().ProtocolVersion; got != "2024-11-05" {
		t.Errorf("negotiated %s, want 2024-11-05", got)
	}
	if caps := old.InitializeResult().Capabilities; caps.Completions != nil || caps.Tools == nil {
		t.Errorf("2024-11-05 capabilities %+v: want tools and no completions", caps)
	}
	modern := connectSDK(t, endpoint, "2025-06-18", nil, nil)
	if modern.InitializeResult().Capabilities.Completions == nil {
		t.Error("2025-06-18 client on /mcp: no completions capability (the demo offers it; the gating test means nothing)")
	}
	// Any revision may be asked for on /sse.
	newer := connectLegacy(t, base, "2025-06-18", nil)
	if got := newer.InitializeResult().ProtocolVersion; got != "2025-06-18" {
		t.Errorf("negotiated %s on /sse, want 2025-06-18", got)
	}
	if names := toolNames(t, old); !slices.Contains(names, "echo") || !slices.Contains(names, "test_tool_with_progress") {
		t.Errorf("tools over /sse: %v", names)
	}
	res, err := old.CallTool(context.Background(), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "over sse"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := textOf(t, res); !strings.Contains(got, "over sse") {
		t.Errorf("echo = %q", got)
	}
	st := g.hub.Stats()
	if st.ByTransport["sse"] != 2 || st.ByTransport["streamable"] != 1 {
		t.Errorf("sessions by transport: %v", st.ByTransport)
	}
	// Closing the client closes its stream, which ends its session.
	old.Close()
	newer.Close()
	deadline := time.After(10 * time.Second)
	for g.hub.Stats().ByTransport["sse"] != 0 {
		select {
		case <-deadline:
			t.Fatalf("legacy sessions still live after their clients closed: %v", g.hub.Stats().ByTransport)
		case <-time.After(5 * time.Millisecond): // the server sees the closed connection asynchronously
		}
	}
}

// TestLegacyAndStreamableTogether: a client on /sse and a client on /mcp
// use the same upstream at the same time.
func TestLegacyAndStreamableTogether(t *testing.T) {
	endpoint, _ := startGateway(t, parseConfig(t, demoOnly))
	clients := map[string]*mcp.ClientSession{
		"sse":        connectLegacy(t, strings.TrimSuffix(endpoint, "/mcp"), "2024-11-05", nil),
		"streamable": connectSDK(t, endpoint, "2025-11-25", nil, nil),
	}
	const workers, calls = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers*calls)
	for transport, cs := range clients {
		for w := range workers {
			wg.Go(func() {
				for i := range calls {
					msg := fmt.Sprintf("%s-%d-%d", transport, w, i)
					res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": msg}})
					switch {
					case err != nil:
						errs <- fmt.Errorf("%s: %w", msg, err)
					case !strings.Contains(textOf(t, res), msg):
						errs <- fmt.Errorf("%s: got %q", msg, textOf(t, res))
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

const adminToken = "mcpgate_admin-test-token-0123456789abcdef"

// startAdmin serves the gateway's admin handler on loopback.
func startAdmin(t *testing.T, g *Gateway) string {
	t.Helper()
	h := g.AdminHandler()
	if h == nil {
		t.Fatal("admin listener is off")
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func adminDo(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestBroadcastBothTransports: the admin listener's broadcast reaches a
// client on /sse and a client on /mcp; its stats count both.
func TestBroadcastBothTransports(t *testing.T) {
	endpoint, _, admin := startGatewayWithAdmin(t, demoOnly) // mrtr_metrics_test.go

	// Each client reports the list_changed notifications it receives, by
	// list, in order; the broadcasts use different lists to tell them apart.
	notified := func(ch chan string) *mcp.ClientOptions {
		return &mcp.ClientOptions{
			ToolListChangedHandler:     func(context.Context, *mcp.ToolListChangedRequest) { ch <- "tools" },
			PromptListChangedHandler:   func(context.Context, *mcp.PromptListChangedRequest) { ch <- "prompts" },
			ResourceListChangedHandler: func(context.Context, *mcp.ResourceListChangedRequest) { ch <- "resources" },
		}
	}
	legacyGot, modernGot := make(chan string, 8), make(chan string, 8)
	connectLegacy(t, strings.TrimSuffix(endpoint, "/mcp"), "2024-11-05", notified(legacyGot))
	modern := connectSDK(t, endpoint, "2025-11-25", notified(modernGot), nil)
	// The Streamable client receives broadcasts on its GET stream, which it
	// opens after connecting; a round trip first.
	if err := modern.Ping(context.Background(), nil); err != nil {
		t.Fatal(err)
	}

	wait := func(ch chan string, want string) {
		t.Helper()
		select {
		case got := <-ch:
			if got != want {
				t.Errorf("got %s/list_changed, want %s/list_changed", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s/list_changed", want)
		}
	}
	broadcast := func(list, filter string, wantDelivered int) {
		t.Helper()
		status, body := adminDo(t, "POST", admin+"/broadcast", `{"method":"notifications/`+list+`/list_changed","filter":`+filter+`}`)
		var res struct{ Delivered int }
		if status != 200 || json.Unmarshal(body, &res) != nil || res.Delivered != wantDelivered {
			t.Fatalf("broadcast: %d %s, want %d delivered", status, body, wantDelivered)
		}
	}
	broadcast("tools", `{}`, 2)
	wait(legacyGot, "tools")
	wait(modernGot, "tools")
	broadcast("prompts", `{"transports":["sse"]}`, 1)
	wait(legacyGot, "prompts")
	broadcast("resources", `{"transports":["streamable"],"users":["anonymous"],"roles":["user"]}`, 1)
	wait(modernGot, "resources") // not prompts
	broadcast("prompts", `{"users":["zed"]}`, 0)
	broadcast("tools", `{}`, 2)
	wait(legacyGot, "tools") // not resources, not the one to nobody
	wait(modernGot, "tools")

	// A stream counts what it sent once the write returned, which may be
	// after the client read it: poll until the last broadcast is counted.
	var body []byte
	ok := func() bool {
		var status int
		status, body = adminDo(t, "GET", admin+"/stats", "")
		var st struct {
			Sessions        int
			ByTransport     map[string]int                           `json:"by_transport"`
			ByUser          map[string]int                           `json:"by_user"`
			SentByTransport map[string]struct{ Events, Bytes int64 } `json:"sent_by_transport"`
		}
		if status != 200 || json.Unmarshal(body, &st) != nil {
			t.Fatalf("stats: %d %s", status, body)
		}
		return st.Sessions == 2 && st.ByTransport["sse"] == 1 && st.ByTransport["streamable"] == 1 && st.ByUser["anonymous"] == 2 &&
			st.SentByTransport["sse"].Events >= 4 && st.SentByTransport["streamable"].Events >= 4
	}
	if !ok() {
		waitFor(t, "stats counting every broadcast", ok)
	}
	if status, _ := adminDo(t, "GET", strings.Replace(admin, "127.0.0.1", "localhost", 1)+"/stats", ""); status != 200 {
		t.Errorf("stats via localhost: %d", status)
	}
	// Without the token: 401, and the MCP listener has no admin routes.
	resp, err := http.Get(admin + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("stats without the token: %d", resp.StatusCode)
	}
	if status, _ := adminDo(t, "GET", strings.TrimSuffix(endpoint, "/mcp")+"/stats", ""); status != 404 {
		t.Errorf("stats on the MCP listener: %d, want 404", status)
	}
}

// TestHeartbeatBothTransports: with a short interval, idle streams of
// both transports get ": ping" comments, unbuffered; shutdown ends them
// cleanly.
func TestHeartbeatBothTransports(t *testing.T) {
	endpoint, g := startGateway(t, parseConfig(t, demoOnly+"http:\n  heartbeat_interval: 30ms\n"))
	base := strings.TrimSuffix(endpoint, "/mcp")
	get := func(url string, hdr map[string]string) *ssetest.Reader {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), "GET", url, nil)
		req.Header.Set("Accept", "text/event-stream")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		if resp.StatusCode != 200 || resp.Header.Get("X-Accel-Buffering") != "no" {
			t.Fatalf("GET %s: %d, X-Accel-Buffering %q", url, resp.StatusCode, resp.Header.Get("X-Accel-Buffering"))
		}
		return ssetest.NewReader(resp.Body)
	}
	legacy := get(base+"/sse", nil)
	if f, err := legacy.Next(); err != nil || f.Event != "endpoint" {
		t.Fatalf("first event %+v %v", f, err)
	}
	// A Streamable HTTP session initialized by hand, so that the test holds
	// its GET stream (an SDK client would hold it already).
	initReq, _ := http.NewRequestWithContext(t.Context(), "POST", endpoint, strings.NewReader(
		`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
	initReq.Header.Set("Accept", "application/json, text/event-stream")
	initReq.Header.Set("Content-Type", "application/json")
	initResp, err := http.DefaultClient.Do(initReq)
	if err != nil {
		t.Fatal(err)
	}
	initResp.Body.Close()
	sid := initResp.Header.Get("Mcp-Session-Id")
	if initResp.StatusCode != 200 || sid == "" {
		t.Fatalf("initialize: %d", initResp.StatusCode)
	}
	modern := get(endpoint, map[string]string{"Mcp-Session-Id": sid})
	for name, r := range map[string]*ssetest.Reader{"sse": legacy, "streamable": modern} {
		for range 2 {
			f, err := r.Next()
			if err != nil || !f.IsHeartbeat() || f.Comments[0] != "ping" {
				t.Fatalf("%s: want a ping, got %+v %v", name, f, err)
			}
		}
	}
	// Shutdown ends both streams with a clean end of stream.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g.hub.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*ssetest.Reader{"sse": legacy, "streamable": modern} {
		for {
			f, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil || !f.IsHeartbeat() {
				t.Fatalf("%s after shutdown: %+v %v, want heartbeats then EOF", name, f, err)
			}
		}
	}
}

// interopNode returns node and the interop node_modules, or skips (fails
// under CI) when they are missing.
func interopNode(t *testing.T, node string, need ...string) (string, string) {
	t.Helper()
	modules := filepath.Join(repoRoot, "interop", "node_modules")
	for _, p := range need {
		if _, err := os.Stat(filepath.Join(modules, p)); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed (%v): run scripts/interop-setup.sh", p, err)
			}
			t.Skipf("%s is not installed; run scripts/interop-setup.sh", p)
		}
	}
	if node == "" {
		var err error
		if node, err = exec.LookPath("node"); err != nil {
			t.Fatalf("node not found: %v", err)
		}
	}
	return node, modules
}

// everythingAndDemo is a gateway configuration with the demo upstream and
// the third-party server-everything.
func everythingAndDemo(t *testing.T) *config.Config {
	node, entry := everythingEntry(t)
	return parseConfig(t, `
upstreams:
  - name: demo
    command: DEMO
    args: [demo-server]
  - name: everything
    command: `+node+`
    args: [`+entry+`, stdio]
`)
}

// TestLegacyTypeScriptClient: the official TypeScript SDK's
// SSEClientTransport, in a real node process, lists and calls tools of
// the demo upstream and of server-everything through /sse.
func TestLegacyTypeScriptClient(t *testing.T) {
	node, modules := interopNode(t, "", "@modelcontextprotocol/sdk/package.json")
	endpoint, _ := startGateway(t, everythingAndDemo(t))
	calls := `[{"name":"demo__echo","arguments":{"message":"ts over sse"}},` +
		`{"name":"everything__echo","arguments":{"message":"everything over sse"}},` +
		`{"name":"everything__get-sum","arguments":{"a":20,"b":22}}]`
	for _, version := range []string{"2024-11-05", ""} {
		t.Run("version "+version, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, "testdata/legacy_client.cjs", strings.TrimSuffix(endpoint, "/mcp")+"/sse", version, calls)
			cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
			cmd.Stderr = testWriter{t}
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("TypeScript client: %v", err)
			}
			var got struct {
				Version string
				Tools   []string
				Results []string
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("client output %q: %v", out, err)
			}
			want := version
			if want == "" {
				want = "2025-11-25"
			}
			if got.Version != want {
				t.Errorf("negotiated %q, want %q", got.Version, want)
			}
			for _, name := range []string{"demo__echo", "everything__echo", "everything__get-sum"} {
				if !slices.Contains(got.Tools, name) {
					t.Errorf("tools/list lacks %q: %v", name, got.Tools)
				}
			}
			wantResults := []string{"ts over sse", "everything over sse", "42"}
			if len(got.Results) != len(wantResults) {
				t.Fatalf("results %q", got.Results)
			}
			for i, w := range wantResults {
				if !strings.Contains(got.Results[i], w) {
					t.Errorf("call %d = %q, want it to contain %q", i, got.Results[i], w)
				}
			}
		})
	}
}

// TestInspectorCLI: the MCP Inspector's CLI (npm
// @modelcontextprotocol/inspector, run from node_modules with Node 22, no
// npx) with --transport sse lists and calls tools of both upstreams.
func TestInspectorCLI(t *testing.T) {
	const cli = "@modelcontextprotocol/inspector/clients/cli/build/index.js"
	node22, modules := interopNode(t, filepath.Join(repoRoot, "interop", "node_modules", "node22", "bin", "node"), cli, "node22/bin/node")
	endpoint, _ := startGateway(t, everythingAndDemo(t))
	sse := strings.TrimSuffix(endpoint, "/mcp") + "/sse"
	home := t.TempDir() // the CLI keeps a catalog under $HOME
	inspect := func(args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, node22, append([]string{filepath.Join(modules, cli), sse, "--transport", "sse"}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+home, "NO_COLOR=1")
		cmd.Stderr = testWriter{t}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("inspector %v: %v\n%s", args, err, out)
		}
		return out
	}
	var list struct {
		Tools []struct{ Name string }
	}
	if out := inspect("--method", "tools/list"); json.Unmarshal(out, &list) != nil {
		t.Fatalf("tools/list output: %s", out)
	}
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
	}
	for _, want := range []string{"demo__echo", "everything__echo", "everything__get-sum"} {
		if !slices.Contains(names, want) {
			t.Errorf("tools/list lacks %q: %v", want, names)
		}
	}
	tests := []struct {
		tool string
		args []string
		want string
	}{
		{"demo__echo", []string{"message=inspected"}, "inspected"},
		{"everything__get-sum", []string{"a=40", "b=2"}, "42"},
	}
	for _, tt := range tests {
		out := inspect(append([]string{"--method", "tools/call", "--tool-name", tt.tool, "--tool-arg"}, tt.args...)...)
		var res struct {
			Content []struct{ Type, Text string }
		}
		if err := json.Unmarshal(out, &res); err != nil || len(res.Content) == 0 || !strings.Contains(res.Content[0].Text, tt.want) {
			t.Errorf("%s: %s, want text containing %q", tt.tool, out, tt.want)
		}
	}
}

// legacyStream is a raw GET /sse for the auth test.
type legacyStream struct {
	r        *ssetest.Reader
	endpoint string
}

func (s *legacyStream) message(t *testing.T) map[string]any {
	t.Helper()
	for {
		f, err := s.r.Next()
		if err != nil {
			t.Fatalf("reading /sse: %v", err)
		}
		if f.Event == "message" {
			var m map[string]any
			if err := json.Unmarshal([]byte(f.Data), &m); err != nil {
				t.Fatalf("message %q: %v", f.Data, err)
			}
			return m
		}
	}
}

// TestLegacyAuth: the legacy endpoints sit behind the same authentication,
// session binding and role rules as /mcp: 401 without a token, 403 for
// another user's session, the same user's rotated token accepted, and a
// readonly user refused a tool that is not read-only.
func TestLegacyAuth(t *testing.T) {
	gw := startWith(t, staticConfig(t, ""), nil)
	get := func(token string) (*http.Response, *legacyStream) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), "GET", gw.base+"/sse", nil)
		req.Header.Set("Accept", "text/event-stream")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		if resp.StatusCode != 200 {
			return resp, nil
		}
		s := &legacyStream{r: ssetest.NewReader(resp.Body)}
		f, err := s.r.Next()
		if err != nil || f.Event != "endpoint" {
			t.Fatalf("endpoint event: %+v %v", f, err)
		}
		s.endpoint = gw.base + f.Data
		return resp, s
	}
	post := func(s *legacyStream, token, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), "POST", s.endpoint, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var e struct{ Error string }
		_ = json.Unmarshal(b, &e)
		return resp.StatusCode, e.Error
	}
	const init = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`

	if resp, _ := get(""); resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Bearer realm="test-realm"` ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /sse without a token: %d, challenge %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	_, alice := get(aliceToken)
	steps := []struct {
		name, token, body string
		wantStatus        int
		wantErr           string
	}{
		{"bob initializes alice's session", bobToken, init, 403, "forbidden"},
		{"no token", "", init, 401, "unauthorized"},
		{"alice initializes", aliceToken, init, 202, ""},
		{"bob calls in alice's session", bobToken, callTool(1, "echo", `{"message":"x"}`), 403, "forbidden"},
		{"alice's rotated token", aliceRotated, callTool(2, "echo", `{"message":"rotated"}`), 202, ""},
	}
	for _, st := range steps {
		if status, code := post(alice, st.token, st.body); status != st.wantStatus || code != st.wantErr {
			t.Fatalf("%s: %d %q, want %d %q", st.name, status, code, st.wantStatus, st.wantErr)
		}
	}
	if m := alice.message(t); m["id"] != float64(0) || m["result"] == nil {
		t.Errorf("initialize response: %v", m)
	}
	if m := alice.message(t); m["id"] != float64(2) || !strings.Contains(fmt.Sprint(m["result"]), "rotated") {
		t.Errorf("echo response: %v", m)
	}

	// The readonly role holds on /sse too: one core, so one set of rules.
	_, reader := get(readerToken)
	if status, _ := post(reader, readerToken, init); status != 202 {
		t.Fatalf("reader initialize: %d", status)
	}
	reader.message(t)
	if status, _ := post(reader, readerToken, callTool(3, "crash", `{}`)); status != 202 {
		t.Fatalf("reader call: %d", status)
	}
	m := reader.message(t)
	if e, _ := m["error"].(map[string]any); e == nil || e["code"] != float64(-32003) {
		t.Errorf("readonly user calling a destructive tool over /sse: %v, want error -32003", m)
	}
}
