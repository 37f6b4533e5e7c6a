package gateway

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestSDKStatelessBesideSession: the Go SDK as a 2026-07-28 (stateless)
// client and as a 2025-11-25 (session) client, at the same time, through
// one gateway to the session-era demo upstream (docs/protocol-eras.md §8).
func TestSDKStatelessBesideSession(t *testing.T) {
	endpoint, _ := startGateway(t, parseConfig(t, demoOnly))
	modern := connectSDK(t, endpoint, "2026-07-28", nil, nil)
	legacy := connectSDK(t, endpoint, "2025-11-25", nil, nil)
	if modern.ID() != "" {
		t.Errorf("the 2026-07-28 client has session %q; want none", modern.ID())
	}
	if legacy.ID() == "" {
		t.Error("the 2025-11-25 client has no session")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 2*4)
	for _, c := range []struct {
		name string
		cs   *mcp.ClientSession
	}{{"2026-07-28", modern}, {"2025-11-25", legacy}} {
		wg.Go(func() {
			tools, err := c.cs.ListTools(ctx, nil)
			if err != nil {
				errs <- fmt.Errorf("%s: tools/list: %w", c.name, err)
				return
			}
			if len(tools.Tools) == 0 || tools.Tools[0].Name != "test_simple_text" {
				errs <- fmt.Errorf("%s: tools/list starts %v", c.name, tools.Tools[:min(1, len(tools.Tools))])
			}
			for i := range 3 {
				msg := fmt.Sprintf("%s call %d", c.name, i)
				res, err := c.cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": msg}})
				if err != nil {
					errs <- fmt.Errorf("%s: tools/call echo: %w", c.name, err)
					return
				}
				if got := textOf(t, res); !strings.Contains(got, msg) {
					errs <- fmt.Errorf("%s: echo = %q, want %q", c.name, got, msg)
				}
			}
			res, err := c.cs.CallTool(ctx, &mcp.CallToolParams{Name: "test_header_param", Arguments: map[string]any{"region": "eu-west"}})
			if err != nil {
				errs <- fmt.Errorf("%s: tools/call test_header_param: %w", c.name, err)
				return
			}
			if got := textOf(t, res); got != "region: eu-west" {
				errs <- fmt.Errorf("%s: test_header_param = %q", c.name, got)
			}
			prompts, err := c.cs.ListPrompts(ctx, nil)
			if err != nil || len(prompts.Prompts) == 0 {
				errs <- fmt.Errorf("%s: prompts/list: %v, %d prompts", c.name, err, len(prompts.Prompts))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
