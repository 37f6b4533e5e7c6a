package gateway

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// serveOn runs a gateway on ln until the returned stop is called (or the
// test ends).
func serveOn(t *testing.T, cfg *config.Config, ln net.Listener) (stop func()) {
	t.Helper()
	g, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := g.Start(ctx); err != nil {
		t.Fatal(err)
	}
	_, closeFront := serveFront(t, g, ln)
	stop = sync.OnceFunc(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = g.hub.Shutdown(ctx)
		closeFront()
		if err := g.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	t.Cleanup(stop)
	return stop
}

// TestRemoteUpstreamRestartsAndExpires: the gateway behind a remote
// upstream goes away and a new one takes its address. The new one does not
// know the old session (404, or a refused connection while it was down):
// the front gateway initializes a new session, reports the upstream ready
// again, and its own client's session goes on working.
func TestRemoteUpstreamRestartsAndExpires(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	stopBack := serveOn(t, parseConfig(t, demoOnly), ln)
	front := startWith(t, parseConfig(t, fmt.Sprintf(`
upstreams:
  - name: back
    type: http
    protocol: legacy # the session era of Streamable HTTP (remote_modern_test.go has the 2026 one)
    url: http://%s/mcp
    restart_backoff: {min: 20ms, max: 200ms}
`, addr)), nil)
	s := open(t, front.url, nil)
	h := map[string]string{"Mcp-Session-Id": s, "MCP-Protocol-Version": "2025-11-25"}
	echo := func(msg string) *reply {
		return send(t, "POST", front.url, callTool(5, "echo", `{"message":"`+msg+`"}`), h)
	}
	if r := echo("before"); !strings.Contains(r.resultText(), "before") {
		t.Fatalf("echo before: %d %s", r.status, r.body)
	}

	stopBack()
	if r := echo("while down"); r.errorCode() == 0 {
		t.Errorf("call to a stopped upstream: %s, want a JSON-RPC error", r.body)
	}
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	serveOn(t, parseConfig(t, demoOnly), ln2)
	status := func() upstream.Status {
		for _, st := range front.g.pool.Statuses() {
			if st.Name == "back" {
				return st
			}
		}
		return upstream.Status{}
	}
	waitFor(t, "the remote upstream to be ready again", func() bool {
		st := status()
		return st.State == upstream.StateReady && st.Restarts > 0
	})
	if r := echo("after"); !strings.Contains(r.resultText(), "after") {
		t.Fatalf("echo after the restart: %d %s", r.status, r.body)
	}
}

// TestRemoteSessionExpiryReinitializes: the back gateway ends the front's
// upstream session (a DELETE from outside, as an expiry would); the front's
// next call meets 404, initializes a new session, and is sent again there,
// so the client sees no error.
func TestRemoteSessionExpiryReinitializes(t *testing.T) {
	var (
		mu   sync.Mutex
		last string // the session id of the front's latest request
	)
	back := startWith(t, parseConfig(t, demoOnly), func(g *Gateway) {
		inner := g.handler
		g.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if id := r.Header.Get("Mcp-Session-Id"); id != "" && r.Method == http.MethodPost {
				mu.Lock()
				last = id
				mu.Unlock()
			}
			inner.ServeHTTP(w, r)
		})
	})
	front := frontOf(t, back.url)
	s := open(t, front.url, nil)
	h := map[string]string{"Mcp-Session-Id": s, "MCP-Protocol-Version": "2025-11-25"}
	if r := send(t, "POST", front.url, callTool(5, "echo", `{"message":"one"}`), h); !strings.Contains(r.resultText(), "one") {
		t.Fatalf("echo: %d %s", r.status, r.body)
	}
	mu.Lock()
	old := last
	mu.Unlock()
	if r := send(t, "DELETE", back.url, "", map[string]string{"Mcp-Session-Id": old, "MCP-Protocol-Version": "2025-11-25"}); r.status/100 != 2 {
		t.Fatalf("DELETE of the upstream session: %d %s", r.status, r.body)
	}
	if r := send(t, "POST", front.url, callTool(6, "echo", `{"message":"two"}`), h); !strings.Contains(r.resultText(), "two") {
		t.Fatalf("echo after the upstream session ended: %d %s", r.status, r.body)
	}
	mu.Lock()
	now := last
	mu.Unlock()
	if now == old {
		t.Errorf("the front kept using the ended session %q", old)
	}
}
