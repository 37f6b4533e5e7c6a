package httpup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mcpgate/mcpgate/internal/upstream/remote"
)

// BenchmarkCall measures one tools/call through the Streamable HTTP
// upstream against a minimal server that answers JSON at once, so that
// what is measured is the client: encoding, the round trip on a kept-alive
// connection, decoding. Run with -cpu 1,16 for the concurrent case.
func BenchmarkCall(b *testing.B) {
	for _, mode := range []string{"floor", "json", "sse"} {
		b.Run(mode, func(b *testing.B) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				var m struct {
					ID     json.RawMessage `json:"id"`
					Method string          `json:"method"`
				}
				_ = json.Unmarshal(body, &m)
				switch {
				case m.ID == nil:
					w.WriteHeader(http.StatusAccepted)
				case m.Method == "initialize":
					w.Header().Set("Content-Type", "application/json")
					w.Header().Set("Mcp-Session-Id", "bench")
					w.Write([]byte(`{"jsonrpc":"2.0","id":` + string(m.ID) + `,"result":{"protocolVersion":"2025-11-25","capabilities":{}}}`))
				case mode == "sse":
					w.Header().Set("Content-Type", "text/event-stream")
					w.Write([]byte("id: 1\ndata: \n\nid: 2\ndata: {\"jsonrpc\":\"2.0\",\"id\":" + string(m.ID) + ",\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"ok\"}]}}\n\n"))
				default:
					w.Header().Set("Content-Type", "application/json")
					w.Write([]byte(`{"jsonrpc":"2.0","id":` + string(m.ID) + `,"result":{"content":[{"type":"text","text":"ok"}]}}`))
				}
			}))
			defer srv.Close()
			params := json.RawMessage(`{"name":"echo","arguments":{"message":"hello"}}`)
			ctx := context.Background()
			if mode == "floor" {
				// The same exchange with a bare net/http client: the cost
				// of HTTP itself, for comparison.
				cl := remote.NewClient(remote.NewTransport())
				body := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":` + string(params) + `}`)
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, bytes.NewReader(body))
						req.Header.Set("Content-Type", "application/json")
						resp, err := cl.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						_, _ = io.ReadAll(resp.Body)
						resp.Body.Close()
					}
				})
				return
			}
			c := start(b, remote.Endpoint{Conn: remote.Options{Name: "bench"}, URL: srv.URL})
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.Call(ctx, "tools/call", params); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
