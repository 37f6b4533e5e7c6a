package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/internal/sse/ssetest"
)

// statelessPost sends one 2026-07-28 request (docs/protocol-eras.md §2) and
// returns the response; the caller closes its body.
func statelessPost(t *testing.T, ctx context.Context, endpoint, id, method, name, params string) *http.Response {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":` + id + `,"method":"` + method + `","params":{` + params +
		`"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Accept", "application/json, text/event-stream")
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("MCP-Protocol-Version", "2026-07-28")
	hr.Header.Set("Mcp-Method", method)
	if name != "" {
		hr.Header.Set("Mcp-Name", name)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return resp
}

// TestListenResourceUpdates: a 2026-07-28 client's listen stream and a
// 2025-11-25 session both subscribe to the demo's watched resource through
// one gateway (one upstream subscription, docs/protocol-eras.md §4.4 step
// 4); an update reaches both, tagged with the subscriptionId on the listen;
// the session keeps receiving after the listen closes.
func TestListenResourceUpdates(t *testing.T) {
	const uri = "test://watched-resource"
	endpoint, _ := startGateway(t, parseConfig(t, demoOnly))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	updated := make(chan string, 4)
	session := connectSDK(t, endpoint, "2025-11-25", &mcp.ClientOptions{
		ResourceUpdatedHandler: func(_ context.Context, req *mcp.ResourceUpdatedNotificationRequest) {
			updated <- req.Params.URI
		},
	}, nil)
	if err := session.Subscribe(ctx, &mcp.SubscribeParams{URI: uri}); err != nil {
		t.Fatalf("session subscribe: %v", err)
	}

	listenCtx, closeListen := context.WithCancel(ctx)
	defer closeListen()
	listen := statelessPost(t, listenCtx, endpoint, `"watch-1"`, "subscriptions/listen", "",
		`"notifications":{"resourceSubscriptions":["`+uri+`","test://no-such-resource"]},`)
	defer listen.Body.Close()
	frames := ssetest.NewReader(listen.Body)
	next := func() (method string, params json.RawMessage) {
		t.Helper()
		return nextListenFrame(t, frames) // tasks_listen_test.go
	}
	// The lone demo owns every URI and declares resources.subscribe, but
	// refuses to subscribe to an unknown one: only uri is honoured.
	if method, params := next(); method != "notifications/subscriptions/acknowledged" ||
		!strings.Contains(string(params), `"resourceSubscriptions":["`+uri+`"]`) {
		t.Fatalf("first listen message %s %s, want the acknowledgement with %s", method, params, uri)
	}

	update := func() {
		t.Helper()
		resp := statelessPost(t, ctx, endpoint, "2", "tools/call", "update_watched_resource",
			`"name":"update_watched_resource","arguments":{"text":"new"},`)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"result"`) {
			t.Fatalf("update_watched_resource: %d %s", resp.StatusCode, body)
		}
	}
	update()
	if method, params := next(); method != "notifications/resources/updated" ||
		string(params) != `{"_meta":{"io.modelcontextprotocol/subscriptionId":"watch-1"},"uri":"`+uri+`"}` {
		t.Errorf("listen got %s %s, want the update tagged watch-1", method, params)
	}
	select {
	case got := <-updated:
		if got != uri {
			t.Errorf("session updated %q", got)
		}
	case <-ctx.Done():
		t.Fatal("the session got no update")
	}

	closeListen()
	update()
	select {
	case <-updated:
	case <-ctx.Done():
		t.Fatal("the session lost its subscription when the listen closed")
	}
}
