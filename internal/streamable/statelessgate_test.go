package streamable

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/mcpsession/mcpsessiontest"
	"github.com/mcpgate/mcpgate/internal/sse/ssetest"
)

func TestStatelessGate(t *testing.T) {
	type op struct {
		user   string
		listen bool
		leave  bool
		want   string // enter's refusal; "" admitted
	}
	tests := []struct {
		name string
		opts Options
		ops  []op
	}{
		{"in flight per user", Options{StatelessInFlightPerUser: 2}, []op{
			{user: "a"}, {user: "a", listen: true}, {user: "a", want: RefusedInFlight}, {user: "b"},
			{user: "a", leave: true}, {user: "a"},
		}},
		{"listens per user", Options{ListensPerUser: 1}, []op{
			{user: "a", listen: true}, {user: "a", listen: true, want: RefusedListensPerUser}, {user: "a"},
			{user: "a", listen: true, leave: true}, {user: "a", listen: true},
		}},
		{"all listens", Options{ListensPerUser: 2, MaxListens: 2}, []op{
			{user: "a", listen: true}, {user: "b", listen: true}, {user: "c", listen: true, want: RefusedMaxListens},
			{user: "c"}, {user: "b", listen: true, leave: true}, {user: "c", listen: true},
		}},
		{"per user default capped by all", Options{MaxListens: 1}, []op{
			{user: "a", listen: true}, {user: "a", listen: true, want: RefusedListensPerUser},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newStatelessGate(tt.opts)
			for i, o := range tt.ops {
				if o.leave {
					g.leave(o.user, o.listen)
					continue
				}
				if got := g.enter(o.user, o.listen); got != o.want {
					t.Errorf("op %d: enter(%s, listen %v) = %q, want %q", i, o.user, o.listen, got, o.want)
				}
			}
		})
	}
	t.Run("maps hold only principals with work", func(t *testing.T) {
		g := newStatelessGate(Options{})
		g.enter("a", true)
		g.leave("a", true)
		if len(g.inFlight) != 0 || len(g.listens) != 0 || g.total != 0 {
			t.Errorf("after leave: inFlight %v listens %v total %d", g.inFlight, g.listens, g.total)
		}
	})
}

// TestStatelessRefused checks the HTTP side of the bounds: 429 (a
// principal's own) or 503 (all listens), Retry-After, a JSON-RPC error
// echoing the id, and the refusal reported for metrics.
func TestStatelessRefused(t *testing.T) {
	var mu sync.Mutex
	var refused []string
	serve := func(opts Options) *httptest.Server {
		opts.OnStatelessRefused = func(reason string) {
			mu.Lock()
			refused = append(refused, reason)
			mu.Unlock()
		}
		return mcpsessiontest.NewEnv(t, &mcpsessiontest.EnvOptions{
			Core: listenCore{mcpsessiontest.NewFakeCore()},
			Hub:  mcpsession.Options{Heartbeat: time.Hour},
		}, func(hub *mcpsession.Hub) http.Handler { return New(hub, &opts) }).Srv
	}
	post := func(srv *httptest.Server, user, method, params string) *http.Response {
		t.Helper()
		body := `{"jsonrpc":"2.0","id":"r-1","method":"` + method + `","params":{` + params + meta(`{}`, "") + `}}`
		hr, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/mcp", strings.NewReader(body))
		hr.Header.Set("Accept", "application/json, text/event-stream")
		hr.Header.Set("Content-Type", "application/json")
		hr.Header.Set("X-Test-User", user)
		for k, v := range modern(method) {
			hr.Header.Set(k, v)
		}
		resp, err := srv.Client().Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	listenOK := func(srv *httptest.Server, user string) {
		t.Helper()
		resp := post(srv, user, mcp.MethodSubscriptionsListen, `"notifications":{"toolsListChanged":true},`)
		t.Cleanup(func() { resp.Body.Close() })
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("listen of %s: status %d, want 200", user, resp.StatusCode)
		}
		if f, err := ssetest.NewReader(resp.Body).Next(); err != nil || !strings.Contains(f.Data, mcp.NotificationSubscriptionsAcknowledged) {
			t.Fatalf("listen of %s: first frame %+v %v, want the acknowledgement", user, f, err)
		}
	}
	wantRefused := func(resp *http.Response, status int, retry, reason string) {
		t.Helper()
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var got struct {
			ID    string `json:"id"`
			Error struct {
				Code int `json:"code"`
				Data struct {
					Error string `json:"error"`
				} `json:"data"`
			} `json:"error"`
		}
		if resp.StatusCode != status || resp.Header.Get("Retry-After") != retry ||
			json.Unmarshal(body, &got) != nil || got.ID != "r-1" || got.Error.Data.Error != reason {
			t.Errorf("got %d Retry-After %q %s; want %d Retry-After %s, id r-1, %s",
				resp.StatusCode, resp.Header.Get("Retry-After"), body, status, retry, reason)
		}
	}

	listens := serve(Options{StatelessInFlightPerUser: 4, ListensPerUser: 1, MaxListens: 2})
	listenOK(listens, "alice")
	wantRefused(post(listens, "alice", mcp.MethodSubscriptionsListen, `"notifications":{},`),
		http.StatusTooManyRequests, "30", RefusedListensPerUser)
	listenOK(listens, "bob")
	wantRefused(post(listens, "carol", mcp.MethodSubscriptionsListen, `"notifications":{},`),
		http.StatusServiceUnavailable, "30", RefusedMaxListens)

	inFlight := serve(Options{StatelessInFlightPerUser: 1})
	listenOK(inFlight, "alice")
	wantRefused(post(inFlight, "alice", mcp.MethodToolsList, ""), http.StatusTooManyRequests, "1", RefusedInFlight)
	// Another principal is admitted (the fake core then answers 404).
	if resp := post(inFlight, "bob", mcp.MethodToolsList, ""); resp.StatusCode == http.StatusTooManyRequests {
		t.Errorf("another principal's request: status %d, want it admitted", resp.StatusCode)
	} else {
		resp.Body.Close()
	}

	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]string{RefusedListensPerUser, RefusedMaxListens, RefusedInFlight}, refused); diff != "" {
		t.Errorf("refusals reported (-want +got):\n%s", diff)
	}
}
