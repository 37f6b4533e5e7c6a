package ssetransport

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/httpfront"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/mcpsession/mcpsessiontest"
)

// BenchmarkLegacyCall: one 2024-11-05 call over loopback, as a client
// makes it: POST /messages (202), then the response read from the
// session's stream. Allocations count both sides.
// On the fast lane the 202 is held until the call is answered
// (messages.go).
func BenchmarkLegacyCall(b *testing.B) {
	for _, l := range lanes {
		b.Run(l.name, func(b *testing.B) { benchmarkLegacyCall(b, l.front) })
	}
}

func benchmarkLegacyCall(b *testing.B, front *httpfront.Options) {
	hub, _ := mcpsessiontest.NewHub(b, nil)
	h := New(hub, nil)
	mux := http.NewServeMux()
	mux.Handle("/sse", h.Stream())
	mux.Handle("/messages", h.Messages())
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	base := srv.URL
	if front != nil {
		base = mcpsessiontest.ServeFront(b, *front, mux)
	}

	req, _ := http.NewRequest(http.MethodGet, base+"/sse", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := srv.Client().Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	// next returns the data of the next event.
	next := func() string {
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				b.Fatal(err)
			}
			if d, ok := strings.CutPrefix(line, "data: "); ok {
				return d
			}
		}
	}
	endpoint := strings.TrimSpace(next())
	post := func(body []byte) {
		r, err := srv.Client().Post(base+endpoint, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusAccepted {
			b.Fatalf("status %d", r.StatusCode)
		}
	}
	post([]byte(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"` + mcp.Version20241105 +
		`","capabilities":{},"clientInfo":{"name":"b","version":"1"}}}`))
	next()
	body := []byte(`{"jsonrpc":"2.0","id":42,"method":"fast","params":{"name":"search","arguments":{"query":"mcp gateway","limit":10}}}`)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		post(body)
		next()
	}
}
