package jsonrpc

import (
	"encoding/json"
	"testing"
)

// Messages as the gateway sees them on its hot path: a client's tools/call,
// and an upstream's answer to it.
var (
	benchRequest  = []byte(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"search","arguments":{"query":"mcp gateway","limit":10},"_meta":{"progressToken":"p-42"}}}`)
	benchResponse = []byte(`{"jsonrpc":"2.0","id":1234,"result":{"content":[{"type":"text","text":"Echo: hello, gateway"}],"structuredContent":{"echo":"hello, gateway","length":14}}}`)
)

func BenchmarkDecode(b *testing.B) {
	for _, bb := range []struct {
		name string
		data []byte
	}{{"request", benchRequest}, {"response", benchResponse}} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.data)))
			for b.Loop() {
				if _, err := Decode(bb.data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	m := NewResponse(json.RawMessage(`42`), json.RawMessage(`{"content":[{"type":"text","text":"Echo: hello, gateway"}],"structuredContent":{"echo":"hello, gateway","length":14}}`))
	b.ReportAllocs()
	for b.Loop() {
		_ = Encode(m)
	}
}
