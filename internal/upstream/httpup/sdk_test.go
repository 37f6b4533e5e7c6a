package httpup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/upstream"
	"github.com/mcpgate/mcpgate/internal/upstream/httpup"
	"github.com/mcpgate/mcpgate/internal/upstream/remote"
	"github.com/mcpgate/mcpgate/internal/upstream/remote/remotetest"
)

// recorder wraps a handler and records what reached it.
type recorder struct {
	next http.Handler

	mu      sync.Mutex // guards the fields below
	methods []string   // HTTP methods, in order
	headers []http.Header
	bodies  []string // the JSON-RPC method of each POST, "" for others
	expire  string   // a session id to answer 404 for
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var method string
	if req.Method == http.MethodPost {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		if raw, ok := jsonrpc.Lookup(body, "method"); ok {
			method = strings.Trim(string(raw), `"`)
		}
	}
	r.mu.Lock()
	r.methods = append(r.methods, req.Method)
	r.headers = append(r.headers, req.Header.Clone())
	r.bodies = append(r.bodies, method)
	dead := r.expire != "" && req.Header.Get("Mcp-Session-Id") == r.expire
	r.mu.Unlock()
	if dead {
		http.Error(w, `{"error":"not_found"}`, http.StatusNotFound)
		return
	}
	r.next.ServeHTTP(w, req)
}

func (r *recorder) count(method string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.methods {
		if m == method {
			n++
		}
	}
	return n
}

func (r *recorder) lastHeader() http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.headers[len(r.headers)-1]
}

func startSDK(t *testing.T, opts *mcp.StreamableHTTPOptions) (*httptest.Server, *recorder) {
	t.Helper()
	s := remotetest.SDKServer()
	rec := &recorder{next: mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, opts)}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return srv, rec
}

func newConn(t *testing.T, url string, h upstream.Handler, header http.Header) *remote.Conn {
	t.Helper()
	c, err := httpup.New(remote.Endpoint{
		Conn: remote.Options{
			Name:              "sdk",
			InitTimeout:       5 * time.Second,
			RestartBackoffMin: 20 * time.Millisecond,
			RestartBackoffMax: 100 * time.Millisecond,
			ReadyWait:         5 * time.Second,
		},
		URL:    url,
		Header: header,
	}, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	return remotetest.Start(t, c)
}

func callTool(t *testing.T, c upstream.Conn, name, args string) *jsonrpc.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := c.Call(ctx, "tools/call", json.RawMessage(`{"name":"`+name+`","arguments":`+args+`}`))
	if err != nil {
		t.Fatalf("calling %s: %v", name, err)
	}
	return m
}

func wantText(t *testing.T, m *jsonrpc.Message, want string) {
	t.Helper()
	if m.Error != nil {
		t.Fatalf("error response: %+v", m.Error)
	}
	if !strings.Contains(string(m.Result), want) {
		t.Fatalf("result %s does not contain %q", m.Result, want)
	}
}

func TestSDKServer(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts *mcp.StreamableHTTPOptions
	}{
		{"sse responses", nil},
		{"json responses", &mcp.StreamableHTTPOptions{JSONResponse: true}},
		{"stateless", &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := startSDK(t, tt.opts)
			c := newConn(t, srv.URL, remotetest.NewHandler(), http.Header{"x-static": {"static-value"}})
			info := c.Info()
			if info == nil || info.ProtocolVersion != "2025-11-25" {
				t.Fatalf("Info = %+v, want protocol 2025-11-25", info)
			}
			if got := c.State(); got != upstream.StateReady {
				t.Fatalf("State = %s, want ready", got)
			}
			wantText(t, callTool(t, c, "echo", `{"message":"hello"}`), "echo: hello")

			// Concurrent calls, each answered with its own result.
			var wg sync.WaitGroup
			for i := range 16 {
				wg.Go(func() {
					msg := strings.Repeat("x", i)
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					m, err := c.Call(ctx, "tools/call", json.RawMessage(`{"name":"echo","arguments":{"message":"`+msg+`"}}`))
					if err != nil {
						t.Errorf("call %d: %v", i, err)
						return
					}
					if !strings.Contains(string(m.Result), `"echo: `+msg+`"`) {
						t.Errorf("call %d: result %s", i, m.Result)
					}
				})
			}
			wg.Wait()
			h := rec.lastHeader()
			if got := h.Get("X-Static"); got != "static-value" {
				t.Errorf("X-Static = %q, want static-value", got)
			}
			if got := h.Get("Mcp-Protocol-Version"); got != "2025-11-25" {
				t.Errorf("MCP-Protocol-Version = %q, want 2025-11-25", got)
			}
			if tt.opts == nil && h.Get("Mcp-Session-Id") == "" {
				t.Errorf("no Mcp-Session-Id sent")
			}
		})
	}
}

func TestSDKServerRequestOnPostStream(t *testing.T) {
	srv, _ := startSDK(t, nil)
	h := remotetest.NewHandler()
	c := newConn(t, srv.URL, h, nil)
	done := make(chan *jsonrpc.Message, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m, err := c.Call(ctx, "tools/call", json.RawMessage(`{"name":"sample","arguments":{}}`))
		if err != nil {
			t.Errorf("call: %v", err)
		}
		done <- m
	}()
	req := h.Request(t, "sampling/createMessage")
	resp := jsonrpc.NewResponse(req.ID, json.RawMessage(`{"role":"assistant","model":"m","content":{"type":"text","text":"sampled!"}}`))
	if err := c.Respond(context.Background(), resp); err != nil {
		t.Fatalf("Respond: %v", err)
	}
	if err := c.Respond(context.Background(), resp); !errors.Is(err, upstream.ErrUnavailable) {
		t.Errorf("second Respond = %v, want ErrUnavailable", err)
	}
	m := <-done
	if m == nil {
		t.Fatal("no result")
	}
	wantText(t, m, "sampled!")
}

func TestSDKServerCancel(t *testing.T) {
	srv, rec := startSDK(t, nil)
	c := newConn(t, srv.URL, remotetest.NewHandler(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.Call(ctx, "tools/call", json.RawMessage(`{"name":"wait","arguments":{}}`))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Call = %v, want DeadlineExceeded", err)
	}
	// The connection still serves.
	wantText(t, callTool(t, c, "echo", `{"message":"after"}`), "echo: after")
	// Closed at once, the Conn still delivers the cancellation before its
	// DELETE; otherwise the wait tool runs on and the SDK's DELETE (and
	// the test server's Close) waits for it.
	cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer ccancel()
	if err := c.Close(cctx); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	cancelled, deleted := -1, -1
	for i, m := range rec.methods {
		switch {
		case m == http.MethodPost && rec.bodies[i] == "notifications/cancelled" && cancelled < 0:
			cancelled = i
		case m == http.MethodDelete && deleted < 0:
			deleted = i
		}
	}
	if cancelled < 0 || deleted < cancelled {
		t.Errorf("notifications/cancelled at request %d, DELETE at %d; want the cancellation first (requests %v %v)", cancelled, deleted, rec.methods, rec.bodies)
	}
}

func TestSDKServerSessionExpiry(t *testing.T) {
	srv, rec := startSDK(t, nil)
	h := remotetest.NewHandler()
	c := newConn(t, srv.URL, h, nil)
	h.WaitReady(t)
	wantText(t, callTool(t, c, "echo", `{"message":"one"}`), "echo: one")
	old := rec.lastHeader().Get("Mcp-Session-Id")
	rec.mu.Lock()
	rec.expire = old
	rec.mu.Unlock()
	// The 404 leads to a new session and the call is sent again there.
	wantText(t, callTool(t, c, "echo", `{"message":"two"}`), "echo: two")
	if got := rec.lastHeader().Get("Mcp-Session-Id"); got == old || got == "" {
		t.Errorf("session id after expiry = %q (old %q), want a new one", got, old)
	}
	h.WaitReady(t) // the new session
}

func TestSDKServerDeleteOnClose(t *testing.T) {
	srv, rec := startSDK(t, nil)
	c := newConn(t, srv.URL, remotetest.NewHandler(), nil)
	wantText(t, callTool(t, c, "echo", `{"message":"x"}`), "echo: x")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rec.count(http.MethodDelete); got != 1 {
		t.Errorf("DELETE requests = %d, want 1", got)
	}
	if got := c.State(); got != upstream.StateStopped {
		t.Errorf("State = %s, want stopped", got)
	}
	_, err := c.Call(ctx, "tools/list", nil)
	if !errors.Is(err, upstream.ErrUnavailable) {
		t.Errorf("Call after Close = %v, want ErrUnavailable", err)
	}
}
