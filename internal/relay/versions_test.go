package relay

import (
	"context"
	"encoding/json"
	"testing"
)

// TestNoNewerFeaturesForOlderClients: a client gets no capability newer
// than the revision it negotiated, even when the upstreams offer it:
// "completions" (2025-03-26) and elicitation routing (2025-06-18) are not
// given to a 2024-11-05 client.
func TestNoNewerFeaturesForOlderClients(t *testing.T) {
	info := toolsInfo()
	info.Capabilities.Completions = json.RawMessage(`{}`)
	r := newTestRelay(t, Options{}, &fakeConn{name: "up", info: info, serve: listServer(`[]`, `[]`, `[]`)})
	tests := []struct {
		version                      string
		wantCompletions, wantElicits bool
	}{
		{"2024-11-05", false, false},
		{"2025-03-26", true, false},
		{"2025-06-18", true, true},
		{"2025-11-25", true, true},
	}
	for _, tt := range tests {
		res, rpcErr := r.Initialize(context.Background(), anyPrincipal, json.RawMessage(
			`{"protocolVersion":"`+tt.version+`","capabilities":{"elicitation":{},"sampling":{}},"clientInfo":{"name":"t","version":"1"}}`))
		if rpcErr != nil {
			t.Fatal(rpcErr)
		}
		var result struct {
			Capabilities map[string]json.RawMessage `json:"capabilities"`
		}
		if err := json.Unmarshal(res.Result, &result); err != nil {
			t.Fatal(err)
		}
		_, completions := result.Capabilities["completions"]
		if completions != tt.wantCompletions || res.Capabilities.Elicitation != tt.wantElicits || !res.Capabilities.Sampling {
			t.Errorf("%s: completions advertised %v, elicitation routed %v; want %v, %v", tt.version,
				completions, res.Capabilities.Elicitation, tt.wantCompletions, tt.wantElicits)
		}
		if _, ok := result.Capabilities["logging"]; !ok {
			t.Errorf("%s: logging (in every revision) not advertised", tt.version)
		}
	}
}
