package relay

import (
	"context"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
)

// BenchmarkStatelessCall is BenchmarkHandleRequest/single for a 2026-07-28
// client, whose tools/call to a session-era upstream runs on a goroutine
// of its own so that it can park (mrtr_forward.go): the price of the
// multi-round-trip translation on calls that never ask for input.
func BenchmarkStatelessCall(b *testing.B) {
	for _, stateless := range []bool{false, true} {
		b.Run("stateless="+strconv.FormatBool(stateless), func(b *testing.B) {
			r := benchRelay(b, "a")
			ctx := context.Background()
			var seq atomic.Int64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				msg := jsonrpc.NewRequest(json.RawMessage("7"), "tools/call", json.RawMessage(`{"name":"echo","arguments":{"message":"hello, gateway"}}`))
				for pb.Next() {
					c := &Client{SessionID: "s" + strconv.FormatInt(seq.Add(1), 10), Stateless: stateless,
						Capabilities: ClientCapabilities{Raw: json.RawMessage(`{}`)}}
					resp := r.HandleRequest(ctx, c, msg, nopStream{})
					if resp == nil || resp.Error != nil {
						b.Fatalf("HandleRequest: %+v", resp)
					}
				}
			})
		})
	}
}
