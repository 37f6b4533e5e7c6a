package mcpsession

import (
	"net/http"
	"testing"
)

func TestDecodeMessages(t *testing.T) {
	const one = `{"jsonrpc":"2.0","id":1,"method":"ping"}`
	tests := []struct {
		name       string
		body       string
		allowBatch bool
		wantN      int
		wantBatch  bool
		wantCode   string // the HTTP error's code; "" none
	}{
		{name: "one message", body: one, wantN: 1},
		{name: "batch allowed", body: "[" + one + "," + one + "]", allowBatch: true, wantN: 2, wantBatch: true},
		{name: "batch at the bound", body: "[" + one + "," + one + "," + one + "]", allowBatch: true, wantN: 3, wantBatch: true},
		{name: "batch over the bound", body: "[" + one + "," + one + "," + one + "," + one + "]", allowBatch: true, wantCode: "invalid_request"},
		{name: "batch not allowed", body: "[" + one + "]", wantCode: "invalid_request"},
		{name: "not JSON", body: "{", wantCode: "parse_error"},
		{name: "not JSON-RPC", body: `{"id":1}`, wantCode: "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, isBatch, herr := DecodeMessages([]byte(tt.body), tt.allowBatch, 3)
			if tt.wantCode != "" {
				if herr == nil || herr.Status != http.StatusBadRequest || herr.Code != tt.wantCode {
					t.Fatalf("error %+v, want a 400 %s", herr, tt.wantCode)
				}
				return
			}
			if herr != nil || len(msgs) != tt.wantN || isBatch != tt.wantBatch {
				t.Fatalf("got %d messages, batch %v, error %v; want %d, %v", len(msgs), isBatch, herr, tt.wantN, tt.wantBatch)
			}
		})
	}
}
