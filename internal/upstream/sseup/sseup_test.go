package sseup_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/upstream"
	"github.com/mcpgate/mcpgate/internal/upstream/remote"
	"github.com/mcpgate/mcpgate/internal/upstream/remote/remotetest"
	"github.com/mcpgate/mcpgate/internal/upstream/sseup"
)

// sdkSSE serves the Go SDK's server over its HTTP+SSE handler, counting
// the GET streams opened and recording each request's X-Key header.
func sdkSSE(t *testing.T) (*httptest.Server, *sync.Map) {
	t.Helper()
	s := remotetest.SDKServer()
	seen := &sync.Map{}
	sse := mcp.NewSSEHandler(func(*http.Request) *mcp.Server { return s }, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.Method+" "+r.Header.Get("X-Key"), true)
		sse.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, seen
}

func start(t *testing.T, url string, h upstream.Handler, header http.Header) *remote.Conn {
	t.Helper()
	c, err := sseup.New(remote.Endpoint{
		Conn:   remote.Options{Name: "legacy", InitTimeout: 5 * time.Second, RestartBackoffMin: 10 * time.Millisecond, ReadyWait: 5 * time.Second},
		URL:    url,
		Header: header,
	}, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	return remotetest.Start(t, c)
}

func call(t *testing.T, c upstream.Conn, params string) *jsonrpc.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := c.Call(ctx, "tools/call", json.RawMessage(params))
	if err != nil {
		t.Fatalf("Call: %v", err)
	}
	return m
}

func TestSDKSSEServer(t *testing.T) {
	srv, seen := sdkSSE(t)
	h := remotetest.NewHandler()
	c := start(t, srv.URL, h, http.Header{"X-Key": {"k-1"}})
	if info := h.WaitReady(t); info.ProtocolVersion == "" {
		t.Fatalf("no protocol version in %+v", info)
	}
	if m := call(t, c, `{"name":"echo","arguments":{"message":"hi"}}`); !strings.Contains(string(m.Result), "echo: hi") {
		t.Fatalf("result %s", m.Result)
	}
	for _, k := range []string{"GET k-1", "POST k-1"} {
		if _, ok := seen.Load(k); !ok {
			t.Errorf("no %s request with the configured header", k)
		}
	}
	if st := c.Status(); st.Transport != "sse" || st.State != upstream.StateReady {
		t.Errorf("Status = %+v", st)
	}

	// A server→client request arrives on the stream; the answer goes back
	// by POST.
	done := make(chan *jsonrpc.Message, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m, err := c.Call(ctx, "tools/call", json.RawMessage(`{"name":"sample","arguments":{}}`))
		if err != nil {
			t.Errorf("sample: %v", err)
		}
		done <- m
	}()
	req := h.Request(t, "sampling/createMessage")
	if err := c.Respond(context.Background(), jsonrpc.NewResponse(req.ID, json.RawMessage(`{"role":"assistant","model":"m","content":{"type":"text","text":"sampled"}}`))); err != nil {
		t.Fatal(err)
	}
	if m := <-done; m == nil || !strings.Contains(string(m.Result), "sampled") {
		t.Fatalf("sample result %v", m)
	}
}

func TestStreamLossReinitializes(t *testing.T) {
	srv, _ := sdkSSE(t)
	h := remotetest.NewHandler()
	c := start(t, srv.URL, h, nil)
	h.WaitReady(t)
	srv.CloseClientConnections() // the stream is cut: the session is over
	h.WaitReady(t)               // a new session
	if m := call(t, c, `{"name":"echo","arguments":{"message":"again"}}`); !strings.Contains(string(m.Result), "echo: again") {
		t.Fatalf("result %s", m.Result)
	}
	if st := c.Status(); st.Restarts == 0 {
		t.Errorf("Restarts = 0 after a lost stream")
	}
}

func TestEndpointOnAnotherOriginRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write([]byte("event: endpoint\ndata: http://evil.example/messages?s=1\n\n"))
	}))
	defer srv.Close()
	c, err := sseup.New(remote.Endpoint{Conn: remote.Options{Name: "x"}, URL: srv.URL}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	defer c.Close(ctx)
	err = c.Start(ctx)
	if err == nil || !strings.Contains(err.Error(), "another origin") {
		t.Fatalf("Start = %v, want the other origin refused", err)
	}
	if _, err := c.Call(ctx, "tools/list", nil); !errors.Is(err, upstream.ErrUnavailable) {
		t.Errorf("Call = %v, want ErrUnavailable", err)
	}
}
