package sse

import "testing"

// BenchmarkAppendEvent encodes one message event with its event ID, as
// every server→client message on a stream is written.
func BenchmarkAppendEvent(b *testing.B) {
	data := []byte(`{"jsonrpc":"2.0","id":42,"result":{"content":[{"type":"text","text":"Echo: hello, gateway"}]}}`)
	id := []byte("Zm9vYmFyYmF6cXV4.17")
	var buf []byte
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		buf = AppendEvent(buf[:0], id, "message", 0, data)
	}
}
