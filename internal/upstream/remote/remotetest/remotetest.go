// Package remotetest helps test remote upstream connections: starting one
// for a test, recording what it hands its Handler, and checking that no
// goroutine is left behind.
package remotetest

//lint:file-ignore SA1019 sampling is deprecated by 2026-07-28 (SEP-2577) but clients and servers of every era still use it; the gateway relays it and these tests prove that.

import (
	"context"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcpsession/mcpsessiontest"
	"github.com/mcpgate/mcpgate/internal/upstream"
	"github.com/mcpgate/mcpgate/internal/upstream/remote"
)

// Main runs a test binary's tests and then fails it if a goroutine whose
// stack mentions one of patterns, or package remote, is still running
// (mcpsessiontest.Main).
func Main(m *testing.M, patterns ...string) {
	mcpsessiontest.Main(m, append(patterns, "internal/upstream/remote.")...)
}

// Start starts c, failing the test if its first session does not become
// ready within 10s, and closes it when the test ends.
func Start(t testing.TB, c *remote.Conn) *remote.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

// Handler records what an upstream hands its upstream.Handler.
type Handler struct {
	// Msgs gets every notification and request; Ready every fresh Info.
	Msgs  chan *jsonrpc.Message
	Ready chan *upstream.Info
}

// NewHandler returns a Handler with room for 64 messages and 16 ready
// reports.
func NewHandler() *Handler {
	return &Handler{Msgs: make(chan *jsonrpc.Message, 64), Ready: make(chan *upstream.Info, 16)}
}

// UpstreamMessage implements upstream.Handler.
func (h *Handler) UpstreamMessage(_ string, m *jsonrpc.Message) { h.Msgs <- m }

// UpstreamReady implements upstream.Handler.
func (h *Handler) UpstreamReady(_ string, info *upstream.Info) { h.Ready <- info }

// Request waits up to 10s for a request with method, skipping other
// messages.
func (h *Handler) Request(t testing.TB, method string) *jsonrpc.Message {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m := <-h.Msgs:
			if m.Method == method && m.IsRequest() {
				return m
			}
		case <-timeout:
			t.Fatalf("no %s request reached the handler", method)
		}
	}
}

// WaitReady waits up to 10s for the next ready report.
func (h *Handler) WaitReady(t testing.TB) *upstream.Info {
	t.Helper()
	select {
	case info := <-h.Ready:
		return info
	case <-time.After(10 * time.Second):
		t.Fatal("no UpstreamReady report")
		return nil
	}
}

// SDKServer is the Go SDK's MCP server, an independent implementation to
// test against, with three tools: echo (argument message, answers
// "echo: <message>"), sample (asks the client for sampling/createMessage
// and answers its content) and wait (runs until cancelled).
func SDKServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "sdk-upstream", Version: "1"}, nil)
	type echoIn struct {
		Message string `json:"message"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "echo"}, func(ctx context.Context, req *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "echo: " + in.Message}}}, nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "sample"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		res, err := req.Session.CreateMessage(ctx, &mcp.CreateMessageParams{
			MaxTokens: 10,
			Messages:  []*mcp.SamplingMessage{{Role: "user", Content: &mcp.TextContent{Text: "hi"}}},
		})
		if err != nil {
			return nil, nil, err
		}
		return &mcp.CallToolResult{Content: []mcp.Content{res.Content}}, nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "wait"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		// Until cancelled: a cancellation that does not reach the server
		// leaves it running, and the SDK's DELETE waits for it.
		<-ctx.Done()
		return nil, nil, ctx.Err()
	})
	return s
}
