//lint:file-ignore SA1019 sampling is deprecated by 2026-07-28 (SEP-2577) but clients and servers of every era still use it; the gateway relays it and these tests prove that.

package gateway

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/internal/upstream"
	"github.com/mcpgate/mcpgate/internal/upstream/remote/remotetest"
)

// Remote 2026-07-28 upstreams (docs/protocol-eras.md §10 "Increment 6"):
// a front gateway whose one upstream is a back gateway's /mcp in front of
// the demo in its modern era — a real 2026 HTTP server. A recording proxy
// between them shows what reaches the back over the wire.

// modernDemo is the demo in its 2026-07-28 era behind a gateway.
const modernDemo = `
upstreams:
  - name: demo
    command: DEMO
    args: [demo-server, --era, "2026-07-28"]
`

// recordingProxy forwards to target (a base URL), streaming answers,
// through a remotetest.Wire that records what the front sends.
func recordingProxy(t *testing.T, target string) (string, *remotetest.Wire) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.FlushInterval = -1
	rp.ErrorHandler = func(http.ResponseWriter, *http.Request, error) {}
	wire := &remotetest.Wire{Next: rp}
	srv := httptest.NewServer(wire)
	t.Cleanup(srv.Close)
	return srv.URL, wire
}

// TestRemoteModernUpstream: a 2025-11-25 and a 2026-07-28 Go SDK client
// at the same time through a gateway whose upstream is a remote 2026
// server: the probe finds it modern; lists, calls, sampling by
// InputRequiredResult (passed through to the 2026 client, driven as a
// server→client request for the session client), Mcp-Param headers from
// both, and the wire: no session, no GET, no DELETE, the request metadata
// headers on every POST.
func TestRemoteModernUpstream(t *testing.T) {
	back := startWith(t, parseConfig(t, modernDemo), nil)
	proxy, wire := recordingProxy(t, back.base)
	front := startWith(t, parseConfig(t, fmt.Sprintf("upstreams:\n  - name: back\n    type: http\n    url: %s/mcp\n", proxy)), nil)
	conn, _ := front.g.pool.Get("back")
	if info := conn.Info(); info == nil || info.Era != upstream.EraModern || info.ProtocolVersion != "2026-07-28" {
		t.Fatalf("back upstream info %+v: want modern 2026-07-28", info)
	}
	sampling := func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
		return &mcp.CreateMessageResult{Model: "m", Role: "assistant", Content: &mcp.TextContent{Text: "sampled remotely"}}, nil
	}
	clients := map[string]*mcp.ClientSession{
		"2026-07-28": connectSDK(t, front.url, "2026-07-28", &mcp.ClientOptions{CreateMessageHandler: sampling}, nil),
		"2025-11-25": connectSDK(t, front.url, "2025-11-25", &mcp.ClientOptions{CreateMessageHandler: sampling}, nil),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for version, cs := range clients {
		wg.Go(func() {
			fail := func(format string, args ...any) { errs <- fmt.Errorf(version+": "+format, args...) }
			tools, err := cs.ListTools(ctx, nil)
			if err != nil || len(tools.Tools) == 0 {
				fail("tools/list: %v", err)
				return
			}
			cases := []struct{ tool, region, want string }{
				{"echo", "", version + " echo"},
				{"test_header_param", "eu-west-" + version, "eu-west-" + version},
				{"test_header_param", "Zürich " + version, "Zürich " + version},
				{"test_sampling", "", "LLM response: sampled remotely"},
			}
			for _, c := range cases {
				args := map[string]any{"message": version + " echo", "prompt": "hi"}
				if c.region != "" {
					args = map[string]any{"region": c.region}
				}
				res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: c.tool, Arguments: args})
				if err != nil || res.IsError || !strings.Contains(textOf(t, res), c.want) {
					fail("%s(%v): %v %+v, want %q", c.tool, args, err, res, c.want)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// The wire: what a 2026 client sends [SH26 §Request Metadata].
	for _, r := range wire.All() {
		switch {
		case r.Method != http.MethodPost:
			t.Errorf("%s request to a 2026 upstream (no GET stream, no DELETE)", r.Method)
		case r.Header.Get("Mcp-Session-Id") != "":
			t.Errorf("Mcp-Session-Id sent to a 2026 upstream")
		case r.Header.Get("Mcp-Protocol-Version") != "2026-07-28" || r.Header.Get("Mcp-Method") == "":
			t.Errorf("POST without the request metadata headers: %v", r.Header)
		}
	}
	if rs := wire.Find("server/discover", ""); len(rs) == 0 {
		t.Error("no server/discover probe")
	}
	if rs := wire.Find("initialize", ""); len(rs) != 0 {
		t.Error("initialize sent to a 2026 upstream")
	}
	var regions []string
	for _, r := range wire.Find("tools/call", "test_header_param") {
		regions = append(regions, r.Header.Get("Mcp-Param-Region"))
	}
	for version := range clients {
		// [SH26 §Value Encoding]: non-ASCII goes base64.
		for _, want := range []string{"eu-west-" + version, "=?base64?" + base64.StdEncoding.EncodeToString([]byte("Zürich "+version)) + "?="} {
			if !slices.Contains(regions, want) {
				t.Errorf("Mcp-Param-Region values %q lack %q", regions, want)
			}
		}
	}
}

// modernChain starts back (the modern demo behind a gateway), the
// recording proxy and a front gateway whose upstream "back" is reached
// through the proxy with protocol auto.
func modernChain(t *testing.T) (back, front *started, wire *remotetest.Wire) {
	t.Helper()
	back = startWith(t, parseConfig(t, modernDemo), nil)
	proxy, wire := recordingProxy(t, back.base)
	front = startWith(t, parseConfig(t, fmt.Sprintf("upstreams:\n  - name: back\n    type: http\n    url: %s/mcp\n", proxy)), nil)
	return back, front, wire
}

// TestRemoteModernCancellation: a call cancelled by a 2026 client (closing
// its response stream) or by a session client (notifications/cancelled)
// leaves the remote 2026 upstream too, by the front closing its POST's
// response stream — never by notifications/cancelled, which 2026-07-28
// does not have over HTTP [SH26 §Cancellation].
func TestRemoteModernCancellation(t *testing.T) {
	back, front, wire := modernChain(t)
	session := connectSDK(t, front.url, "2025-11-25", nil, nil)
	cases := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"2026 client closes its stream", func(ctx context.Context) error {
			body := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"slow","arguments":{"ms":60000},` +
				`"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`
			hr, err := http.NewRequestWithContext(ctx, http.MethodPost, front.url, strings.NewReader(body))
			if err != nil {
				return err
			}
			for k, v := range map[string]string{"Accept": "application/json, text/event-stream", "Content-Type": "application/json",
				"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "slow"} {
				hr.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(hr)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			_, err = io.ReadAll(resp.Body)
			return err
		}},
		{"session client cancels", func(ctx context.Context) error {
			_, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{"ms": 60000}})
			return err
		}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- c.call(ctx) }()
			waitFor(t, "the slow call to reach the back gateway", func() bool { return back.g.relay.InFlight() == 1 })
			cancel()
			select {
			case err := <-done:
				if err == nil {
					t.Error("the cancelled call returned no error")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the cancelled call did not return")
			}
			waitFor(t, "the call to leave the back gateway", func() bool { return back.g.relay.InFlight() == 0 })
			waitFor(t, "the proxy to finish the call", func() bool {
				rs := wire.Find("tools/call", "slow")
				return len(rs) == i+1 && rs[i].Done
			})
			if r := wire.Find("tools/call", "slow")[i]; !r.Cancelled {
				t.Error("the upstream POST was answered, not closed")
			}
		})
	}
	if rs := wire.Find("notifications/cancelled", ""); len(rs) != 0 {
		t.Errorf("%d notifications/cancelled POSTs to a 2026 upstream", len(rs))
	}
	callTools(t, session, []toolCall{{"echo", map[string]any{"message": "after"}, "after"}})
}

// TestRemoteModernForwardsParamHeaders: an Mcp-Param-* header that no
// tool binds reaches the remote upstream unchanged (docs/protocol-eras.md
// §2 rule 12; [SH26 §Server Behavior for Custom Headers]: intermediaries
// MUST forward it), bound ones after the gateway checked them.
func TestRemoteModernForwardsParamHeaders(t *testing.T) {
	_, front, wire := modernChain(t)
	cases := []struct {
		name, tool, args string
		headers          map[string]string
		wantStatus       int
	}{
		{"unbound header forwarded", "echo", `{"message":"hi"}`, map[string]string{"Mcp-Param-Trace": "abc-123"}, http.StatusOK},
		{"bound header, base64", "test_header_param", `{"region":"Zürich"}`, map[string]string{"Mcp-Param-Region": "=?base64?WsO8cmljaA==?="}, http.StatusOK},
		{"bound header mismatch stops at the front", "test_header_param", `{"region":"a"}`, map[string]string{"Mcp-Param-Region": "b"}, http.StatusBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(wire.Find("tools/call", c.tool))
			body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + c.tool + `","arguments":` + c.args +
				`,"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`
			h := map[string]string{"Accept": "application/json, text/event-stream", "Content-Type": "application/json",
				"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": c.tool}
			for k, v := range c.headers {
				h[k] = v
			}
			r := send(t, http.MethodPost, front.url, body, h)
			if r.status != c.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, c.wantStatus, r.body)
			}
			rs := wire.Find("tools/call", c.tool)
			if c.wantStatus != http.StatusOK {
				if len(rs) != before {
					t.Errorf("a refused call reached the upstream")
				}
				return
			}
			if len(rs) != before+1 {
				t.Fatalf("%d calls reached the upstream, want %d", len(rs), before+1)
			}
			for k, v := range c.headers {
				if got := rs[len(rs)-1].Header.Get(k); got != v {
					t.Errorf("upstream got %s %q, want %q", k, got, v)
				}
			}
		})
	}
}

// TestRemoteModernListChanged: the front holds a subscriptions/listen POST
// on the remote 2026 upstream; a tool list change there reaches a session
// client of the front as notifications/tools/list_changed. The change is
// made once, as soon as the client is attached, without waiting for the
// listen: made before the back registered the listen, it is found by the
// front's re-read of the lists at the listen's acknowledgement
// (relay/modern_listen_ack.go); made after, the listen announces it.
func TestRemoteModernListChanged(t *testing.T) {
	_, front, _ := modernChain(t)
	changed := make(chan struct{}, 4)
	cs := connectSDK(t, front.url, "2025-11-25", &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { changed <- struct{}{} },
	}, nil)
	callTools(t, cs, []toolCall{{"test_trigger_tool_change", map[string]any{}, ""}})
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("no notifications/tools/list_changed")
	}
}
