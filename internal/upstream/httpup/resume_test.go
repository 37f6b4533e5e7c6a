package httpup_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/internal/sse/ssetest"
	"github.com/mcpgate/mcpgate/internal/upstream/remote"
	"github.com/mcpgate/mcpgate/internal/upstream/remote/remotetest"
)

// resumableSDK is the Go SDK server with an event store (resumable
// streams) and a tool that closes its own POST stream with a retry field
// before it answers (SEP-1699), so the client must come back with GET and
// Last-Event-ID to get the result.
func resumableSDK(t *testing.T, retry time.Duration) (*httptest.Server, *recorder) {
	t.Helper()
	s := remotetest.SDKServer()
	mcp.AddTool(s, &mcp.Tool{Name: "hangup"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		req.Extra.CloseSSEStream(mcp.CloseSSEStreamArgs{RetryAfter: retry})
		time.Sleep(50 * time.Millisecond) // the result is produced after the hang-up
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "after the hang-up"}}}, nil, nil
	})
	rec := &recorder{next: mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{EventStore: mcp.NewMemoryEventStore(nil)})}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return srv, rec
}

func TestSDKServerClosesStreamWithRetry(t *testing.T) {
	const retry = 300 * time.Millisecond
	srv, rec := resumableSDK(t, retry)
	c := newConn(t, srv.URL, remotetest.NewHandler(), nil)
	start := time.Now()
	wantText(t, callTool(t, c, "hangup", `{}`), "after the hang-up")
	if took := time.Since(start); took < retry {
		t.Errorf("call took %v: the client did not wait the server's retry (%v) before resuming", took, retry)
	}
	var resumed bool
	rec.mu.Lock()
	for i, m := range rec.methods {
		if m == http.MethodGet && rec.headers[i].Get("Last-Event-Id") != "" {
			resumed = true
		}
	}
	rec.mu.Unlock()
	if !resumed {
		t.Error("no GET with Last-Event-ID reached the server")
	}
}

func TestResumeAfterDroppedConnection(t *testing.T) {
	srv, _ := resumableSDK(t, 0)
	cutter := &ssetest.Cutter{Base: remote.NewTransport(), Marker: "id: "}
	c := start(t, remote.Endpoint{
		Conn:   remote.Options{Name: "sdk", InitTimeout: 5 * time.Second},
		URL:    srv.URL,
		Client: remote.NewClient(cutter),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cutter.Armed.Store(true)
	// The cut comes right after the priming event, before the result.
	m, err := c.Call(ctx, "tools/call", json.RawMessage(`{"name":"hangup","arguments":{}}`))
	if err != nil {
		t.Fatalf("call across a dropped connection: %v", err)
	}
	wantText(t, m, "after the hang-up")
	if cutter.Cuts.Load() != 1 {
		t.Errorf("cuts = %d, want 1", cutter.Cuts.Load())
	}
	if !cutter.Resumed.Load() {
		t.Error("the client did not resume with Last-Event-ID")
	}
}
