package relay

import (
	"context"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// benchConn answers every call at once with a fixed result, so that the
// benchmarks measure the relay, not an upstream.
type benchConn struct {
	name  string
	tools json.RawMessage
	info  *upstream.Info
}

var benchResult = json.RawMessage(`{"content":[{"type":"text","text":"Echo: hello, gateway"}]}`)

func (c *benchConn) Name() string          { return c.name }
func (c *benchConn) State() upstream.State { return upstream.StateReady }
func (c *benchConn) Info() *upstream.Info  { return c.info }
func (c *benchConn) Call(ctx context.Context, method string, params json.RawMessage) (*jsonrpc.Message, error) {
	switch method {
	case "tools/list":
		return jsonrpc.NewResponse(json.RawMessage("1"), c.tools), nil
	case "prompts/list", "resources/list", "resources/templates/list":
		return jsonrpc.NewResponse(json.RawMessage("1"), json.RawMessage(`{}`)), nil
	}
	return jsonrpc.NewResponse(json.RawMessage("1"), benchResult), nil
}
func (c *benchConn) Notify(context.Context, string, json.RawMessage) error { return nil }
func (c *benchConn) Respond(context.Context, *jsonrpc.Message) error       { return nil }

type nopStream struct{}

func (nopStream) Send(*jsonrpc.Message) error { return nil }

func benchRelay(b *testing.B, upstreams ...string) *Relay {
	r := New(Options{})
	for _, name := range upstreams {
		c := &benchConn{name: name, info: toolsInfo(), tools: json.RawMessage(`{"tools":[{"name":"echo","inputSchema":{"type":"object"}},{"name":"search","inputSchema":{"type":"object"}}]}`)}
		r.Register(Upstream{Conn: c, CallTimeout: time.Minute})
	}
	r.Refresh(context.Background())
	b.Cleanup(r.Close)
	return r
}

// BenchmarkHandleRequest routes a tools/call through the relay to an
// upstream that answers at once: one upstream (names unchanged), two
// (namespaced names, renamed on the way), and with a progress token (which
// the relay replaces).
func BenchmarkHandleRequest(b *testing.B) {
	for _, bb := range []struct {
		name      string
		upstreams []string
		params    string
	}{
		{"single", []string{"a"}, `{"name":"echo","arguments":{"message":"hello, gateway"}}`},
		{"namespaced", []string{"a", "b"}, `{"name":"b__echo","arguments":{"message":"hello, gateway"}}`},
		{"progress", []string{"a"}, `{"name":"echo","arguments":{"message":"hello, gateway"},"_meta":{"progressToken":"p-1"}}`},
	} {
		b.Run(bb.name, func(b *testing.B) {
			r := benchRelay(b, bb.upstreams...)
			ctx := context.Background()
			var sessions atomic.Int64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				// One session per goroutine: a request id is unique per
				// session while in flight.
				c := &Client{SessionID: strconv.FormatInt(sessions.Add(1), 10)}
				r.Attach(c)
				msg := jsonrpc.NewRequest(json.RawMessage("7"), "tools/call", json.RawMessage(bb.params))
				for pb.Next() {
					resp := r.HandleRequest(ctx, c, msg, nopStream{})
					if resp == nil || resp.Error != nil {
						b.Fatalf("HandleRequest: %+v", resp)
					}
				}
			})
		})
	}
}

// BenchmarkRoute is the un-namespacing of one tools/call: read the name
// and progress token from the params, find the route, and splice the
// upstream's own name and a gateway token into the params.
func BenchmarkRoute(b *testing.B) {
	routes := map[string]route{"b__echo": {upstream: "b", name: "echo"}}
	params := json.RawMessage(`{"name":"b__echo","arguments":{"message":"hello, gateway","n":[1,2,3]},"_meta":{"progressToken":"p-1"}}`)
	b.ReportAllocs()
	for b.Loop() {
		rtg, ok := readRouting(params, "name")
		if !ok {
			b.Fatal("slow path")
		}
		rt := routes[rtg.key]
		up := upstreamParams{routing: rtg, fast: true, newName: rt.name}
		if _, err := up.apply(params, "mcpgate-1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCatalog is namespacing: rebuilding the aggregated lists of
// three upstreams with 50 tools each, as after a list_changed.
func BenchmarkCatalog(b *testing.B) {
	var tools []byte
	tools = append(tools, `{"tools":[`...)
	for i := range 50 {
		if i > 0 {
			tools = append(tools, ',')
		}
		tools = append(tools, `{"name":"tool_`+strconv.Itoa(i)+`","description":"Does thing number `+strconv.Itoa(i)+`.","inputSchema":{"type":"object","properties":{"x":{"type":"string"}}}}`...)
	}
	tools = append(tools, "]}"...)
	r := New(Options{})
	for _, name := range []string{"a", "b", "c"} {
		r.Register(Upstream{Conn: &benchConn{name: name, info: toolsInfo(), tools: tools}, CallTimeout: time.Minute})
	}
	r.Refresh(context.Background())
	b.Cleanup(r.Close)
	b.ReportAllocs()
	for b.Loop() {
		r.refreshMu.Lock()
		cat := r.buildCatalogLocked("")
		r.refreshMu.Unlock()
		if len(cat.tools) != 150 {
			b.Fatalf("%d tools", len(cat.tools))
		}
	}
}
