package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/secret"
)

// TestMRTRMetricsThroughGateway: a 2026-07-28 client's call to the
// session-era demo that asks for input parks (docs/protocol-eras.md §4.3
// A); the parked call shows in the metrics and in the admin /stats, and
// is gone from both once the retry completes it.
func TestMRTRMetricsThroughGateway(t *testing.T) {
	endpoint, g, admin := startGatewayWithAdmin(t, demoOnly)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const tool = "test_input_required_result_elicitation"
	const caps = `{"elicitation":{}}`

	type counts struct{ parked, total, refused, timeouts float64 }
	check := func(step string, want counts) {
		t.Helper()
		var got counts
		for name, v := range map[string]*float64{"mcpgate_mrtr_parked": &got.parked, "mcpgate_mrtr_parked_total": &got.total,
			"mcpgate_mrtr_park_limit_refused_total": &got.refused, "mcpgate_mrtr_park_timeouts_total": &got.timeouts} {
			x, ok := g.Metrics().Value(name)
			if !ok {
				t.Fatalf("%s: metric %s not registered", step, name)
			}
			*v = x
		}
		if got != want {
			t.Errorf("%s: metrics %+v, want %+v", step, got, want)
		}
		status, body := adminDo(t, "GET", admin+"/stats", "")
		var stats struct {
			MRTR struct {
				Parked      int `json:"parked"`
				ParkedTotal int `json:"parkedTotal"`
			} `json:"mrtr"`
		}
		if status != http.StatusOK || json.Unmarshal(body, &stats) != nil ||
			float64(stats.MRTR.Parked) != want.parked || float64(stats.MRTR.ParkedTotal) != want.total {
			t.Errorf("%s: /stats %d %s, want mrtr parked %v of %v", step, status, body, want.parked, want.total)
		}
	}
	check("before", counts{})

	status, body := taskRequest(t, ctx, endpoint, "tools/call", tool, caps, `"name":"`+tool+`","arguments":{}`)
	var first struct {
		Result struct {
			ResultType   string `json:"resultType"`
			RequestState string `json:"requestState"`
		} `json:"result"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &first) != nil || first.Result.ResultType != "input_required" || first.Result.RequestState == "" {
		t.Fatalf("round 1: %d %s, want an InputRequiredResult with a requestState", status, body)
	}
	check("parked", counts{parked: 1, total: 1})

	status, body = taskRequest(t, ctx, endpoint, "tools/call", tool, caps, `"name":"`+tool+`","arguments":{},"requestState":"`+
		first.Result.RequestState+`","inputResponses":{"user_name":{"action":"accept","content":{"name":"Alice"}}}`)
	if status != http.StatusOK || !strings.Contains(string(body), "Hello, Alice!") {
		t.Fatalf("retry: %d %s, want the greeting", status, body)
	}
	check("completed", counts{total: 1})
}

// startGatewayWithAdmin starts a gateway for yaml with the admin listener
// on (token adminToken); it returns the MCP endpoint, the gateway and the
// admin listener's URL.
func startGatewayWithAdmin(t *testing.T, yaml string) (string, *Gateway, string) {
	t.Helper()
	digest, err := secret.HashToken(adminToken)
	if err != nil {
		t.Fatal(err)
	}
	cfg := parseConfig(t, yaml+"admin:\n  token: "+digest+"\n")
	if err := cfg.ResolveSecrets(config.SecretReader{}); err != nil {
		t.Fatal(err)
	}
	endpoint, g := startGateway(t, cfg)
	return endpoint, g, startAdmin(t, g)
}
