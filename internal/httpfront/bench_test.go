package httpfront

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
)

// BenchmarkServe: one keep-alive client posting a JSON-RPC-sized request
// and reading the response, on the fast lane and on net/http's (the
// handler as small as the floor's). The difference is the lanes' own cost
// per request; the client's is in both.
func BenchmarkServe(b *testing.B) {
	reply := []byte(`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"Echo: hello, gateway"}]}}`)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header()["Content-Type"] = []string{"application/json"}
		w.Write(reply)
	})
	req := []byte(post("/mcp", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello, gateway"}}}`,
		"Accept: application/json, text/event-stream", "Mcp-Session-Id: 0123456789abcdef0123456789abcdef", "Mcp-Protocol-Version: 2025-11-25"))
	for _, lane := range []struct {
		name        string
		netHTTPOnly bool
	}{{"fast", false}, {"net-http", true}} {
		b.Run(lane.name, func(b *testing.B) {
			_, addr := start(b, h, func(o *Options) { o.NetHTTPOnly = lane.netHTTPOnly })
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			defer nc.Close()
			br := bufio.NewReader(nc)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := nc.Write(req); err != nil {
					b.Fatal(err)
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
