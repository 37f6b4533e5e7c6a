package gateway

import (
	"net/http"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/sse/ssetest"
)

// TestParkingOption: by default an idle standalone GET stream is taken
// over from net/http (parked) and announced with "Connection: close" so
// that no client reuses its connection; http.keep_idle_streams_in_handlers
// keeps it on its handler.
func TestParkingOption(t *testing.T) {
	for _, tt := range []struct {
		name     string
		extra    string
		wantPark bool
	}{
		{"default parks", "", true},
		{"kept in handlers", "http:\n  keep_idle_streams_in_handlers: true\n", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			endpoint, g := startGateway(t, parseConfig(t, tt.extra+demoOnly))
			post := func(sid, body string) *http.Response {
				req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				req.Header.Set("MCP-Protocol-Version", "2025-11-25")
				if sid != "" {
					req.Header.Set("Mcp-Session-Id", sid)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { resp.Body.Close() })
				return resp
			}
			sid := post("", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`).Header.Get("Mcp-Session-Id")
			if sid == "" {
				t.Fatal("no session")
			}
			post(sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
			req, _ := http.NewRequest(http.MethodGet, endpoint, nil)
			req.Header.Set("Accept", "text/event-stream")
			req.Header.Set("Mcp-Session-Id", sid)
			req.Header.Set("MCP-Protocol-Version", "2025-11-25")
			get, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer get.Body.Close()
			if get.StatusCode != http.StatusOK {
				t.Fatalf("GET: %d", get.StatusCode)
			}
			if _, err := ssetest.NewReader(get.Body).Next(); err != nil { // the priming event
				t.Fatalf("reading the stream: %v", err)
			}
			if get.Close != tt.wantPark {
				t.Errorf("Connection: close sent: %v, want %v", get.Close, tt.wantPark)
			}
			if tt.wantPark {
				waitFor(t, "the idle stream to be parked", func() bool { return g.hub.Parked() == 1 })
			} else if n := g.hub.Parked(); n != 0 {
				t.Errorf("%d streams parked with parking off", n)
			}
		})
	}
}
