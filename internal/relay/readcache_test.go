package relay

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// TestReadCache: resources/read results that carry ttlMs are served from
// the cache to 2026-07-28 clients until they expire, with the remaining
// ttlMs; private ones only to their principal; results without ttlMs never;
// an update notification drops the entry (docs/protocol-eras.md §4.5).
func TestReadCache(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		reads := map[string]int{} // upstream reads by URI
		up := &fakeConn{name: "m", info: &upstream.Info{Capabilities: upstream.Capabilities{Resources: &upstream.ResourcesCap{}}}}
		up.serve = func(_ context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
			if method != mcp.MethodResourcesRead {
				return json.RawMessage(`{}`), nil
			}
			var p struct{ URI string }
			_ = json.Unmarshal(params, &p)
			mu.Lock()
			reads[p.URI]++
			mu.Unlock()
			switch p.URI {
			case "test://public":
				return json.RawMessage(`{"contents":[],"resultType":"complete","ttlMs":5000,"cacheScope":"public"}`), nil
			case "test://private":
				return json.RawMessage(`{"cacheScope":"private","ttlMs":5000,"contents":[]}`), nil
			}
			return json.RawMessage(`{"contents":[]}`), nil // session era: no ttlMs
		}
		r := newTestRelay(t, Options{}, up)
		read := func(who, uri string) (ttl int64, scope string) {
			t.Helper()
			c := &Client{SessionID: "stateless-" + who, Stateless: true, Principal: principal.Principal{Subject: who}}
			resp := r.HandleRequest(context.Background(), c, request(1, mcp.MethodResourcesRead, `{"uri":"`+uri+`"}`), newRecStream())
			var res struct {
				TTLMs      int64  `json:"ttlMs"`
				CacheScope string `json:"cacheScope"`
				ResultType string `json:"resultType"`
			}
			if resp == nil || resp.Error != nil || json.Unmarshal(resp.Result, &res) != nil || res.ResultType != "complete" ||
				!strings.Contains(string(resp.Result), `"contents":[]`) {
				t.Fatalf("%s reading %s: %s", who, uri, jsonrpc.Encode(resp))
			}
			return res.TTLMs, res.CacheScope
		}
		upstreamReads := func(uri string) int {
			mu.Lock()
			defer mu.Unlock()
			return reads[uri]
		}

		steps := []struct {
			name      string
			wait      time.Duration
			who, uri  string
			wantTTL   int64
			wantReads int // upstream reads of uri after the step
		}{
			{"first read goes upstream", 0, "alice", "test://public", 5000, 1},
			{"then from the cache", 2 * time.Second, "alice", "test://public", 3000, 1},
			{"public: any principal", 0, "bob", "test://public", 3000, 1},
			{"expired: upstream again", 3 * time.Second, "bob", "test://public", 5000, 2},
			{"private first read", 0, "alice", "test://private", 5000, 1},
			{"private: cached for its principal", time.Second, "alice", "test://private", 4000, 1},
			{"private: not for another", 0, "bob", "test://private", 5000, 2},
			{"no ttlMs: never cached", 0, "alice", "test://legacy", 0, 1},
			{"no ttlMs: upstream again", 0, "alice", "test://legacy", 0, 2},
		}
		for _, s := range steps {
			time.Sleep(s.wait)
			if ttl, _ := read(s.who, s.uri); ttl != s.wantTTL {
				t.Errorf("%s: ttlMs %d, want %d", s.name, ttl, s.wantTTL)
			}
			if n := upstreamReads(s.uri); n != s.wantReads {
				t.Errorf("%s: %d upstream reads of %s, want %d", s.name, n, s.uri, s.wantReads)
			}
		}

		r.UpstreamMessage("m", jsonrpc.NewNotification(mcp.NotificationResourceUpdated, json.RawMessage(`{"uri":"test://public"}`)))
		read("alice", "test://public")
		if n := upstreamReads("test://public"); n != 3 {
			t.Errorf("after an update: %d upstream reads, want 3 (the entry dropped)", n)
		}
	})
}
