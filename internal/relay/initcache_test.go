package relay

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/principal"
)

// TestInitializeResultFollowsUpstreamInfo: the InitializeResult is built
// once per version and rebuilt when an upstream's Info changes (a restart
// that brings other capabilities or instructions).
func TestInitializeResultFollowsUpstreamInfo(t *testing.T) {
	a := &fakeConn{name: "a", info: toolsInfo(), serve: listServer(`[]`, `[]`, `[]`)}
	r := newTestRelay(t, Options{}, a)
	init := func(version string) string {
		t.Helper()
		res, rpcErr := r.Initialize(context.Background(), principal.Anonymous,
			json.RawMessage(`{"protocolVersion":"`+version+`","capabilities":{},"clientInfo":{"name":"t","version":"1"}}`))
		if rpcErr != nil {
			t.Fatal(rpcErr)
		}
		return string(res.Result)
	}
	first := init("2025-11-25")
	if again := init("2025-11-25"); again != first {
		t.Errorf("same version, same upstreams, different results:\n%s\n%s", first, again)
	}
	if old := init("2025-03-26"); !strings.Contains(old, `"protocolVersion":"2025-03-26"`) {
		t.Errorf("2025-03-26 result: %s", old)
	}
	info := *a.info
	info.Instructions = "restarted with instructions"
	a.info = &info // no call is in flight: nothing reads it concurrently
	if got := init("2025-11-25"); !strings.Contains(got, "restarted with instructions") {
		t.Errorf("result after the upstream's Info changed: %s", got)
	}
}
