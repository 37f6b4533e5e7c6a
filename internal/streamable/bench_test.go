package streamable

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/mcpsession/mcpsessiontest"
)

// discardWriter is a minimal ResponseWriter, so the benchmark measures the
// handler rather than a recorder.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }
func (w *discardWriter) Flush()                      {}

// BenchmarkPOSTJSON: a tools/call-like request answered at once by the
// core, through the handler (ServeHTTP), in an initialized session.
func BenchmarkPOSTJSON(b *testing.B) {
	hub, _ := mcpsessiontest.NewHub(b, nil)
	h := New(hub, nil)

	w := &discardWriter{h: http.Header{}}
	r := httptest.NewRequest("POST", "/mcp", strings.NewReader(initBody(mcp.Version20251125)))
	r.Header.Set("Accept", "application/json, text/event-stream")
	r.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(w, r)
	sid := w.h.Get("Mcp-Session-Id")
	if w.status != 200 || sid == "" {
		b.Fatalf("initialize: %d", w.status)
	}
	body := []byte(`{"jsonrpc":"2.0","id":42,"method":"fast","params":{"name":"search","arguments":{"query":"mcp gateway","limit":10}}}`)
	hdr := http.Header{
		"Accept":               {"application/json, text/event-stream"},
		"Content-Type":         {"application/json"},
		"Mcp-Session-Id":       {sid},
		"Mcp-Protocol-Version": {mcp.Version20251125},
	}
	postLoop(b, h, hdr, body, func(w *discardWriter) bool { return w.status == 200 })
}

// postLoop serves body with hdr through h from every benchmark goroutine;
// ok judges each answer.
func postLoop(b *testing.B, h http.Handler, hdr http.Header, body []byte, ok func(*discardWriter) bool) {
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		rd := bytes.NewReader(body)
		for pb.Next() {
			rd.Reset(body)
			r := &http.Request{Method: "POST", Header: hdr, Body: io.NopCloser(rd), ContentLength: int64(len(body))}
			r = r.WithContext(context.Background())
			clear(w.h)
			w.status, w.n = 0, 0
			h.ServeHTTP(w, r)
			if !ok(w) {
				b.Fatalf("status %d, %d bytes", w.status, w.n)
			}
		}
	})
}

// BenchmarkPOSTJSONHTTP is the same over a real loopback connection.
func BenchmarkPOSTJSONHTTP(b *testing.B) {
	hub, _ := mcpsessiontest.NewHub(b, nil)
	srv := httptest.NewServer(New(hub, nil))
	b.Cleanup(srv.Close)
	post := func(sid, body string) *http.Response {
		r, _ := http.NewRequest("POST", srv.URL, strings.NewReader(body))
		r.Header.Set("Accept", "application/json, text/event-stream")
		r.Header.Set("Content-Type", "application/json")
		if sid != "" {
			r.Header.Set("Mcp-Session-Id", sid)
		}
		resp, err := srv.Client().Do(r)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	sid := post("", initBody(mcp.Version20251125)).Header.Get("Mcp-Session-Id")
	body := `{"jsonrpc":"2.0","id":42,"method":"fast","params":{"name":"search","arguments":{"query":"mcp gateway","limit":10}}}`
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if resp := post(sid, body); resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// BenchmarkStatelessPOST: a 2026-07-28 tools/call without a session, its
// _meta as a client sends it, answered at once by the core, through the
// handler: the header and _meta checks, the per-request client.
func BenchmarkStatelessPOST(b *testing.B) {
	hub, _ := mcpsessiontest.NewHub(b, nil)
	h := New(hub, nil)
	body := []byte(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"hello","arguments":{"query":"mcp gateway","limit":10},` +
		`"_meta":{"` + mcp.MetaProtocolVersion + `":"` + mcp.Version20260728 + `","` + mcp.MetaClientCapabilities + `":{"elicitation":{}},` +
		`"` + mcp.MetaClientInfo + `":{"name":"bench","version":"1.0.0"}}}}`)
	hdr := http.Header{
		"Accept":               {"application/json, text/event-stream"},
		"Content-Type":         {"application/json"},
		"Mcp-Protocol-Version": {mcp.Version20260728},
		"Mcp-Method":           {"tools/call"},
		"Mcp-Name":             {"hello"},
	}
	// A JSON answer writes its body without WriteHeader: status 0.
	postLoop(b, h, hdr, body, func(w *discardWriter) bool { return (w.status == 200 || w.status == 0) && w.n > 0 })
}
