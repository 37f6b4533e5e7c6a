package relay

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// fakeUserConns gives each user a fakeConn whose tools carry the user's name.
type fakeUserConns struct {
	r     *Relay
	mu    sync.Mutex
	conns map[string]*fakeConn
}

func (f *fakeUserConns) Acquire(ctx context.Context, user string) (upstream.Conn, func(), error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.conns[user]; c != nil {
		return c, func() {}, nil
	}
	who := strings.TrimPrefix(user, "\x00")
	c := &fakeConn{name: "mine", info: toolsInfo(), respCh: make(chan *jsonrpc.Message, 1)}
	h := f.r.UserHandler(user)
	h.Bind(c)
	c.h = h
	c.serve = func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
		switch {
		case method == "tools/list":
			return json.RawMessage(`{"tools":[{"name":"secret_of_` + who + `"}]}`), nil
		case strings.HasSuffix(method, "/list"):
			return json.RawMessage(`{}`), nil
		}
		// Ask this user's client for sampling mid-call.
		h.UpstreamMessage("mine", jsonrpc.NewRequest(json.RawMessage(`"s-`+who+`"`), "sampling/createMessage", json.RawMessage(`{}`)))
		got := <-c.respCh
		return jsonrpc.MustRaw(map[string]any{"answer": got.Result}), nil
	}
	f.conns[user] = c
	return c, func() {}, nil
}

func TestPerUserUpstreamsAreIsolated(t *testing.T) {
	r := New(Options{})
	uc := &fakeUserConns{r: r, conns: map[string]*fakeConn{}}
	shared := &fakeConn{name: "shared", info: toolsInfo(), serve: listServer(`[{"name":"common"}]`, `[]`, `[]`)}
	shared.h = r
	r.Register(Upstream{Conn: shared})
	r.Register(Upstream{Name: "mine", PerUser: uc})
	r.Refresh(context.Background())
	defer r.Close()

	alice := &Client{SessionID: "a", Principal: principal.Principal{Subject: "alice"}, Capabilities: ClientCapabilities{Sampling: true}}
	bob := &Client{SessionID: "b", Principal: principal.Principal{Subject: "bob"}, Capabilities: ClientCapabilities{Sampling: true}}
	r.Attach(alice)
	r.Attach(bob)

	for _, tc := range []struct {
		c    *Client
		want []string
	}{
		{alice, []string{"shared__common", "mine__secret_of_alice"}},
		{bob, []string{"shared__common", "mine__secret_of_bob"}},
	} {
		resp := r.HandleRequest(context.Background(), tc.c, request(1, "tools/list", ""), newRecStream())
		got := names(t, resp.Result, "tools")
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s sees %v, want %v", tc.c.Principal.Subject, got, tc.want)
		}
	}
	// bob cannot call alice's tool: it is not in his catalog.
	resp := r.HandleRequest(context.Background(), bob, request(2, "tools/call", `{"name":"mine__secret_of_alice"}`), newRecStream())
	if resp.Error == nil || resp.Error.Code != jsonrpc.CodeInvalidParams {
		t.Errorf("bob calling alice's tool: %+v", resp.Error)
	}

	// Both users call at once; each one's sampling request reaches only
	// that user, although both have calls in flight on "mine".
	var wg sync.WaitGroup
	for _, c := range []*Client{alice, bob} {
		out := newRecStream()
		who := c.Principal.Subject
		wg.Go(func() {
			done := make(chan *jsonrpc.Message, 1)
			go func() {
				done <- r.HandleRequest(context.Background(), c, request(3, "tools/call", `{"name":"mine__secret_of_`+who+`"}`), out)
			}()
			req := out.next(t)
			if req.Method != "sampling/createMessage" {
				t.Errorf("%s got %s", who, req.Method)
				return
			}
			r.HandleResponse(context.Background(), c, jsonrpc.NewResponse(req.ID, jsonrpc.MustRaw("from-"+who)))
			resp := <-done
			if resp.Error != nil || !strings.Contains(string(resp.Result), "from-"+who) {
				t.Errorf("%s's call = %s %+v", who, resp.Result, resp.Error)
			}
		})
	}
	wg.Wait()
}
