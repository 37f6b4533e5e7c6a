package relay

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// benchTools is a tools/list result of n tools with small schemas (about
// 250 bytes each, as real servers' are).
func benchTools(n int) json.RawMessage {
	var b strings.Builder
	b.WriteString(`{"tools":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"tool_%d","description":"Does thing number %d to the input and returns the result","inputSchema":`+
			`{"type":"object","properties":{"path":{"type":"string","description":"Where"},"n":{"type":"integer"}},"required":["path"]}}`, i, i)
	}
	b.WriteString(`]}`)
	return json.RawMessage(b.String())
}

// BenchmarkStatelessList measures a 2026-07-28 client's tools/list, served
// pre-encoded from the catalog (freshness.go), against the splice per
// request it replaced (resultType, ttlMs and cacheScope inserted by
// scanning and copying the session-era result).
func BenchmarkStatelessList(b *testing.B) {
	for _, n := range []int{5, 100} {
		r := New(Options{})
		r.Register(Upstream{Conn: &benchConn{name: "a", info: toolsInfo(), tools: benchTools(n)}, CallTimeout: time.Minute})
		r.Refresh(context.Background())
		b.Cleanup(r.Close)
		c := &Client{SessionID: "stateless-bench", Stateless: true}
		msg := jsonrpc.NewRequest(json.RawMessage("7"), mcp.MethodToolsList, nil)
		ctx := context.Background()

		b.Run(fmt.Sprintf("preencoded/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if resp := r.HandleRequest(ctx, c, msg, nopStream{}); resp.Result == nil {
					b.Fatal("no result")
				}
			}
		})
		b.Run(fmt.Sprintf("spliced/%d", n), func(b *testing.B) {
			scope := member{"cacheScope", `"public"`}
			ttl := member{"ttlMs", "60000"}
			b.ReportAllocs()
			for b.Loop() {
				// What handleStateless did before: dispatch, then shape.
				res, rpcErr := r.dispatch(ctx, c, msg, nopStream{})
				if rpcErr != nil {
					b.Fatal(rpcErr)
				}
				if resp := jsonrpc.NewResponse(msg.ID, addMembers(res, resultTypeComplete, ttl, scope)); resp.Result == nil {
					b.Fatal("no result")
				}
			}
		})
	}
}
