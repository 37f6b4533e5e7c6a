package relay

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// listCounter is an upstream whose list calls are counted; tools/list can
// be held at a gate to prove that concurrent stale requests start one
// refresh.
type listCounter struct {
	lists atomic.Int64 // tools/list calls
	gate  chan struct{}
	mu    sync.Mutex
	tools string // the tools/list result
}

func (lc *listCounter) serve(ctx context.Context, method string, _ json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
	if method != mcp.MethodToolsList {
		return json.RawMessage(`{}`), nil
	}
	lc.lists.Add(1)
	if lc.gate != nil {
		select {
		case <-lc.gate:
		case <-ctx.Done():
			return nil, jsonrpc.NewError(jsonrpc.CodeInternalError, "cancelled")
		}
	}
	lc.mu.Lock()
	defer lc.mu.Unlock()
	return json.RawMessage(lc.tools), nil
}

func (lc *listCounter) setTools(s string) {
	lc.mu.Lock()
	lc.tools = s
	lc.mu.Unlock()
}

// statelessTTL asks for tools/list as a 2026-07-28 client and returns the
// result's ttlMs, cacheScope and tool names.
func statelessTTL(t *testing.T, r *Relay) (ttl int64, scope string, tools []string) {
	t.Helper()
	c := &Client{SessionID: "stateless-" + strconv.FormatInt(r.nextID.Add(1), 10), Stateless: true}
	resp := r.HandleRequest(context.Background(), c, request(1, mcp.MethodToolsList, ""), newRecStream())
	var res struct {
		TTLMs      int64  `json:"ttlMs"`
		CacheScope string `json:"cacheScope"`
		Tools      []struct {
			Name string `json:"name"`
		} `json:"tools"`
	}
	if resp == nil || resp.Error != nil || json.Unmarshal(resp.Result, &res) != nil {
		t.Fatalf("tools/list = %s", jsonrpc.Encode(resp))
	}
	for _, tl := range res.Tools {
		tools = append(tools, tl.Name)
	}
	return res.TTLMs, res.CacheScope, tools
}

// TestListFreshness proves docs/protocol-eras.md §4.5: client list requests
// never reach the upstream while the cached list is fresh; a stale list is
// served while exactly one background refresh runs; ttlMs counts down the
// remaining freshness, capped by MaxTTL.
func TestListFreshness(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lc := &listCounter{tools: `{"tools":[{"name":"a"}]}`}
		up := &fakeConn{name: "up", serve: lc.serve, info: &upstream.Info{Capabilities: upstream.Capabilities{
			Tools: &upstream.ListCap{}, // no listChanged: LegacyListTTL applies
		}}}
		r := newTestRelay(t, Options{LegacyListTTL: 10 * time.Second, MaxTTL: 60 * time.Second}, up)
		if n := lc.lists.Load(); n != 1 {
			t.Fatalf("tools/list calls after the first fill = %d, want 1", n)
		}
		session := &Client{SessionID: "s"}
		for i := range 9 {
			if ttl, scope, _ := statelessTTL(t, r); ttl != int64(10-i)*1000 || scope != "public" {
				t.Errorf("at %ds: ttlMs %d cacheScope %q, want %d public", i, ttl, scope, (10-i)*1000)
			}
			r.HandleRequest(context.Background(), session, request(i, mcp.MethodToolsList, ""), newRecStream())
			time.Sleep(time.Second)
		}
		synctest.Wait()
		if n := lc.lists.Load(); n != 1 {
			t.Fatalf("tools/list calls while fresh = %d, want 1 (served from the cache)", n)
		}

		// Stale: concurrent requests are answered at once with the old
		// list and ttlMs 0, and start one refresh, held at the gate.
		time.Sleep(time.Second)
		lc.gate = make(chan struct{})
		lc.setTools(`{"tools":[{"name":"a"},{"name":"b"}]}`)
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				if ttl, _, tools := statelessTTL(t, r); ttl != 0 || len(tools) != 1 {
					t.Errorf("stale list: ttlMs %d tools %v, want 0 and the old list", ttl, tools)
				}
			})
		}
		wg.Wait()
		synctest.Wait()
		if n := lc.lists.Load(); n != 2 {
			t.Fatalf("tools/list calls after concurrent stale requests = %d, want 2 (one refresh)", n)
		}
		close(lc.gate)
		synctest.Wait()
		if ttl, _, tools := statelessTTL(t, r); ttl != 10000 || len(tools) != 2 {
			t.Errorf("after the refresh: ttlMs %d tools %v, want 10000 and the new list", ttl, tools)
		}
		if n := lc.lists.Load(); n != 2 {
			t.Errorf("tools/list calls = %d, want 2", n)
		}
	})
}

// TestListFreshnessNotified: a list of an upstream that declares
// listChanged stays fresh until it announces a change, however old; ttlMs
// is then MaxTTL.
func TestListFreshnessNotified(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lc := &listCounter{tools: `{"tools":[{"name":"a"}]}`}
		up := &fakeConn{name: "up", serve: lc.serve, info: &upstream.Info{Capabilities: upstream.Capabilities{
			Tools: &upstream.ListCap{ListChanged: true},
		}}}
		r := newTestRelay(t, Options{MaxTTL: 30 * time.Second}, up)
		time.Sleep(time.Hour)
		for range 5 {
			if ttl, _, _ := statelessTTL(t, r); ttl != 30000 {
				t.Errorf("ttlMs %d, want MaxTTL 30000", ttl)
			}
		}
		synctest.Wait()
		if n := lc.lists.Load(); n != 1 {
			t.Fatalf("tools/list calls = %d, want 1", n)
		}
		lc.setTools(`{"tools":[{"name":"a"},{"name":"b"}]}`)
		r.UpstreamMessage("up", jsonrpc.NewNotification(mcp.NotificationToolsListChanged, nil))
		synctest.Wait()
		if _, _, tools := statelessTTL(t, r); len(tools) != 2 || lc.lists.Load() != 2 {
			t.Errorf("after list_changed: tools %v, %d list calls; want 2 tools, 2 calls", tools, lc.lists.Load())
		}
	})
}

// TestListFreshnessUpstreamHints: a list result that carries ttlMs and
// cacheScope (a 2026-07-28 upstream) is fresh for that ttlMs and keeps its
// scope; the discover result's ttlMs follows the lists.
func TestListFreshnessUpstreamHints(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lc := &listCounter{tools: `{"tools":[{"name":"a"}],"ttlMs":3500,"cacheScope":"private"}`}
		up := &fakeConn{name: "up", serve: lc.serve, info: &upstream.Info{Capabilities: upstream.Capabilities{
			Tools: &upstream.ListCap{ListChanged: true},
		}}}
		r := newTestRelay(t, Options{}, up)
		if ttl, scope, _ := statelessTTL(t, r); ttl != 3000 || scope != "private" {
			t.Errorf("ttlMs %d cacheScope %q, want 3000 (whole seconds) private", ttl, scope)
		}
		c := &Client{SessionID: "stateless-d", Stateless: true}
		resp := r.HandleRequest(context.Background(), c, request(2, mcp.MethodServerDiscover, ""), newRecStream())
		var d struct {
			TTLMs int64 `json:"ttlMs"`
		}
		if json.Unmarshal(resp.Result, &d); d.TTLMs != 3000 {
			t.Errorf("discover ttlMs %d, want 3000", d.TTLMs)
		}
		time.Sleep(4 * time.Second)
		statelessTTL(t, r) // stale: starts a refresh
		synctest.Wait()
		if n := lc.lists.Load(); n != 2 {
			t.Errorf("tools/list calls = %d, want 2 (refreshed after its ttlMs)", n)
		}
	})
}
