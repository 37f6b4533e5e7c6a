package jsonrpc

import (
	"bytes"
	"testing"
)

// TestDecodeDoesNotAlias: decoded messages hold copies, so the transports
// and the stdio reader reuse their buffers as soon as Decode returns.
func TestDecodeDoesNotAlias(t *testing.T) {
	tests := []struct {
		name, in string
		batch    bool
	}{
		{"fast path", `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo"}}`, false},
		{"fallback (escaped key)", `{"jsonrpc":"2.0","\u0069d":7,"method":"tools/call","params":{"name":"echo"}}`, false},
		{"response", `{"jsonrpc":"2.0","id":"a","result":{"content":[]}}`, false},
		{"batch", `[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo"}}]`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.in)
			msgs, _, rpcErr := DecodeBatch(data, tt.batch)
			if rpcErr != nil {
				t.Fatalf("DecodeBatch: %v", rpcErr)
			}
			var want [][]byte
			for _, m := range msgs {
				want = append(want, Encode(m))
			}
			copy(data, bytes.Repeat([]byte{'x'}, len(data)))
			for i, m := range msgs {
				if got := Encode(m); !bytes.Equal(got, want[i]) {
					t.Errorf("message %d after its input was overwritten: got %s, want %s", i, got, want[i])
				}
			}
		})
	}
}
