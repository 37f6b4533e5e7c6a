package stdio

import (
	"context"
	"testing"

	"github.com/mcpgate/mcpgate/internal/mcp"
)

// BenchmarkCall measures tools/call round trips through a real subprocess
// (the fake server), one at a time and from parallel callers.
func BenchmarkCall(b *testing.B) {
	params := []byte(`{"name":"echo","arguments":{"text":"hello, upstream"}}`)
	for _, bb := range []struct {
		name     string
		parallel bool
	}{{"sequential", false}, {"parallel", true}} {
		b.Run(bb.name, func(b *testing.B) {
			h := newHarness(b, testOptions(b, modeEcho), true)
			ctx := context.Background()
			call := func() {
				m, err := h.c.Call(ctx, mcp.MethodToolsCall, params)
				if err != nil || m.Error != nil {
					b.Fatalf("Call: %v %v", err, m)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			if !bb.parallel {
				for b.Loop() {
					call()
				}
				return
			}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					call()
				}
			})
		})
	}
}
