package relay

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// subCalls counts the resources/subscribe and unsubscribe calls f got.
func subCalls(f *fakeConn) (sub, unsub int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.calls {
		switch c.method {
		case mcp.MethodResourcesSubscribe:
			sub++
		case mcp.MethodResourcesUnsubscribe:
			unsub++
		}
	}
	return sub, unsub
}

// TestListenResourceUpdates drives docs/protocol-eras.md §4.4 step 4:
// resourceSubscriptions acknowledged only for URIs whose upstream declares
// resources.subscribe; the upstream subscription refcounted across listens
// and sessions; notifications/resources/updated delivered to each holder,
// tagged on listens; released when the streams end.
func TestListenResourceUpdates(t *testing.T) {
	resources := func(uri string) func(context.Context, string, json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
		return func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
			if method == mcp.MethodResourcesList {
				return json.RawMessage(`{"resources":[{"uri":"` + uri + `","name":"r"}]}`), nil
			}
			return json.RawMessage(`{}`), nil
		}
	}
	a := &fakeConn{name: "a", serve: resources("test://x"), info: &upstream.Info{Capabilities: upstream.Capabilities{
		Resources: &upstream.ResourcesCap{Subscribe: true}}}}
	b := &fakeConn{name: "b", serve: resources("test://y"), info: &upstream.Info{Capabilities: upstream.Capabilities{
		Resources: &upstream.ResourcesCap{}}}} // cannot deliver updates
	r := newTestRelay(t, Options{}, a, b)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	// open starts a listen; done is closed when it has returned.
	open := func(ctx context.Context, id int, filter string) (*recStream, chan struct{}) {
		s, done := newRecStream(), make(chan struct{})
		c := &Client{SessionID: "stateless-" + string(rune('a'+id)), Stateless: true}
		wg.Go(func() {
			defer close(done)
			r.HandleRequest(ctx, c, request(id, mcp.MethodSubscriptionsListen, `{"notifications":`+filter+`}`), s)
		})
		return s, done
	}
	ctx1, cancel1 := context.WithCancel(ctx)
	l1, l1done := open(ctx1, 1, `{"resourceSubscriptions":["test://x","test://y","test://unknown","test://x"]}`)
	if ack := l1.next(t); string(ack.Params) !=
		`{"_meta":{"io.modelcontextprotocol/subscriptionId":1},"notifications":{"resourceSubscriptions":["test://x"]}}` {
		t.Fatalf("ack %s, want only test://x honoured", ack.Params)
	}
	l2, _ := open(ctx, 2, `{"resourceSubscriptions":["test://x"]}`)
	l2.next(t)
	standalone := newRecStream()
	sess := &Client{SessionID: "s1", Standalone: standalone}
	r.Attach(sess)
	if resp := r.HandleRequest(ctx, sess, request(3, mcp.MethodResourcesSubscribe, `{"uri":"test://x"}`), newRecStream()); resp.Error != nil {
		t.Fatalf("session subscribe: %v", resp.Error)
	}
	if sub, _ := subCalls(a); sub != 1 {
		t.Errorf("upstream a got %d resources/subscribe, want 1 (two listens and a session share it)", sub)
	}
	if sub, _ := subCalls(b); sub != 0 {
		t.Errorf("upstream b got %d resources/subscribe, want 0 (it declares no resources.subscribe)", sub)
	}

	r.UpstreamMessage("a", jsonrpc.NewNotification(mcp.NotificationResourceUpdated,
		json.RawMessage(`{"uri":"test://x","_meta":{"io.modelcontextprotocol/subscriptionId":"upstream's"}}`)))
	for _, tt := range []struct {
		s    *recStream
		want string
	}{
		{l1, `{"_meta":{"io.modelcontextprotocol/subscriptionId":1},"uri":"test://x"}`},
		{l2, `{"_meta":{"io.modelcontextprotocol/subscriptionId":2},"uri":"test://x"}`},
	} {
		if m := tt.s.next(t); m.Method != mcp.NotificationResourceUpdated || string(m.Params) != tt.want {
			t.Errorf("listen got %s %s, want updated %s", m.Method, m.Params, tt.want)
		}
	}
	if m := standalone.next(t); m.Method != mcp.NotificationResourceUpdated {
		t.Errorf("session got %s, want the update", m.Method)
	}

	// The first listen leaves, then the session: the upstream keeps its
	// subscription for the second listen.
	cancel1()
	<-l1done
	r.Detach(sess.SessionID)
	r.wg.Wait()
	if _, unsub := subCalls(a); unsub != 0 {
		t.Errorf("upstream a got %d resources/unsubscribe while a listen holds the URI, want 0", unsub)
	}
	r.UpstreamMessage("a", jsonrpc.NewNotification(mcp.NotificationResourceUpdated, json.RawMessage(`{"uri":"test://x"}`)))
	if m := l2.next(t); m.Method != mcp.NotificationResourceUpdated {
		t.Errorf("second listen got %s, want the update", m.Method)
	}
	cancel()
	wg.Wait()
	r.wg.Wait()
	if _, unsub := subCalls(a); unsub != 1 {
		t.Errorf("upstream a got %d resources/unsubscribe after the last holder left, want 1", unsub)
	}
	if n := len(l1.msgs); n != 2 {
		t.Errorf("first listen got %d messages, want ack + one update", n)
	}
	r.mu.Lock()
	left := len(r.subs)
	r.mu.Unlock()
	if left != 0 {
		t.Errorf("%d subscriptions left after every holder went", left)
	}
}

// plainUserConns gives each user a fakeConn that lists nothing and
// answers every other call with {}.
type plainUserConns struct {
	r     *Relay
	mu    sync.Mutex
	conns map[string]*fakeConn
	hs    map[string]*UserHandler
}

func (f *plainUserConns) Acquire(ctx context.Context, user string) (upstream.Conn, func(), error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.conns[user]; c != nil {
		return c, func() {}, nil
	}
	c := &fakeConn{name: "mine", info: toolsInfo(), serve: func(context.Context, string, json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
		return json.RawMessage(`{}`), nil
	}}
	h := f.r.UserHandler(user)
	h.Bind(c)
	f.conns[user], f.hs[user] = c, h
	return c, func() {}, nil
}

// TestListenResourceUpdatesPerUser: with a per-user upstream each
// principal's listen subscribes through that principal's own process, and
// an update from one process reaches only its principal's listens.
func TestListenResourceUpdatesPerUser(t *testing.T) {
	r := New(Options{})
	uc := &plainUserConns{r: r, conns: map[string]*fakeConn{}, hs: map[string]*UserHandler{}}
	r.Register(Upstream{Name: "mine", PerUser: uc})
	r.Refresh(context.Background())
	defer r.Close()

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	streams := map[string]*recStream{}
	for i, who := range []string{"alice", "bob"} {
		s := newRecStream()
		streams[who] = s
		c := &Client{SessionID: "stateless-" + who, Stateless: true, Principal: principal.Principal{Subject: who}}
		wg.Go(func() {
			r.HandleRequest(ctx, c, request(i, mcp.MethodSubscriptionsListen, `{"notifications":{"resourceSubscriptions":["test://doc"]}}`), s)
		})
		if ack := s.next(t); !strings.Contains(string(ack.Params), `"resourceSubscriptions":["test://doc"]`) {
			t.Fatalf("%s's ack %s, want test://doc honoured", who, ack.Params)
		}
	}
	for _, who := range []string{"alice", "bob"} {
		if sub, _ := subCalls(uc.conns[principal.Principal{Subject: who}.Key()]); sub != 1 {
			t.Errorf("%s's process got %d resources/subscribe, want 1", who, sub)
		}
	}
	alice := principal.Principal{Subject: "alice"}.Key()
	uc.hs[alice].UpstreamMessage("mine", jsonrpc.NewNotification(mcp.NotificationResourceUpdated, json.RawMessage(`{"uri":"test://doc"}`)))
	if m := streams["alice"].next(t); m.Method != mcp.NotificationResourceUpdated {
		t.Errorf("alice got %s, want the update", m.Method)
	}
	cancel()
	wg.Wait()
	r.wg.Wait()
	if n := len(streams["bob"].msgs); n != 1 {
		t.Errorf("bob got %d messages, want only his ack: alice's process's update is hers", n)
	}
	for _, who := range []string{"alice", "bob"} {
		if _, unsub := subCalls(uc.conns[principal.Principal{Subject: who}.Key()]); unsub != 1 {
			t.Errorf("%s's process got %d resources/unsubscribe after the listen ended, want 1", who, unsub)
		}
	}
}

// TestListenResourceUpdatesModern: a 2026-07-28 upstream has no
// resources/subscribe, so the first holder of a URI opens one upstream
// subscriptions/listen for it, shared with later holders and cancelled
// after the last one leaves.
func TestListenResourceUpdatesModern(t *testing.T) {
	info := modernInfo()
	info.Capabilities.Resources = &upstream.ResourcesCap{Subscribe: true}
	started, ended := make(chan struct{}, 4), make(chan struct{}, 4)
	m := &fakeConn{name: "m", info: info}
	m.serve = func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
		if method == mcp.MethodSubscriptionsListen {
			started <- struct{}{}
			<-ctx.Done()
			ended <- struct{}{}
			return nil, jsonrpc.NewError(jsonrpc.CodeInternalError, "cancelled")
		}
		return json.RawMessage(`{}`), nil
	}
	r := newTestRelay(t, Options{}, m)
	upstreamListens := func() (n int, params string) {
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, c := range m.calls {
			if c.method == mcp.MethodSubscriptionsListen {
				n, params = n+1, string(c.params)
			}
		}
		return n, params
	}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var streams []*recStream
	for i := range 2 {
		s := newRecStream()
		streams = append(streams, s)
		c := &Client{SessionID: "stateless-m" + string(rune('0'+i)), Stateless: true}
		wg.Go(func() {
			r.HandleRequest(ctx, c, request(i, mcp.MethodSubscriptionsListen, `{"notifications":{"resourceSubscriptions":["test://doc"]}}`), s)
		})
		if ack := s.next(t); !strings.Contains(string(ack.Params), `"resourceSubscriptions":["test://doc"]`) {
			t.Fatalf("ack %s, want test://doc honoured", ack.Params)
		}
	}
	select {
	case <-started: // the upstream listen is opened in the background
	case <-time.After(5 * time.Second):
		t.Fatal("no upstream listen")
	}
	if n, params := upstreamListens(); n != 1 || !strings.Contains(params, `"resourceSubscriptions":["test://doc"]`) {
		t.Errorf("%d upstream listens, last %s; want one for test://doc", n, params)
	}
	r.UpstreamMessage("m", jsonrpc.NewNotification(mcp.NotificationResourceUpdated,
		json.RawMessage(`{"uri":"test://doc","_meta":{"io.modelcontextprotocol/subscriptionId":99}}`)))
	for i, s := range streams {
		if m := s.next(t); m.Method != mcp.NotificationResourceUpdated ||
			!strings.Contains(string(m.Params), `"io.modelcontextprotocol/subscriptionId":`+string(rune('0'+i))) {
			t.Errorf("listen %d got %s %s, want the update tagged %d", i, m.Method, m.Params, i)
		}
	}
	cancel()
	wg.Wait()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream listen was not cancelled after the last holder left")
	}
}

// TestListenAckFirst: an update the upstream sends while the listen is
// still subscribing waits for the acknowledgement, which stays the
// stream's first message [SUB §Acknowledgment].
func TestListenAckFirst(t *testing.T) {
	var r *Relay
	up := &fakeConn{name: "a", info: toolsInfo()}
	up.serve = func(_ context.Context, method string, _ json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
		if method == mcp.MethodResourcesSubscribe {
			r.UpstreamMessage("a", jsonrpc.NewNotification(mcp.NotificationResourceUpdated, json.RawMessage(`{"uri":"test://x"}`)))
		}
		return json.RawMessage(`{}`), nil
	}
	r = newTestRelay(t, Options{}, up)
	ctx, cancel := context.WithCancel(context.Background())
	s := newRecStream()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c := &Client{SessionID: "stateless-ack", Stateless: true}
		r.HandleRequest(ctx, c, request(5, mcp.MethodSubscriptionsListen, `{"notifications":{"resourceSubscriptions":["test://x"]}}`), s)
	}()
	if m := s.next(t); m.Method != mcp.NotificationSubscriptionsAcknowledged {
		t.Errorf("first message %s, want the acknowledgement", m.Method)
	}
	if m := s.next(t); m.Method != mcp.NotificationResourceUpdated {
		t.Errorf("second message %s, want the update that came while subscribing", m.Method)
	}
	cancel()
	<-done
}
