package relay

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// fakeConn is an in-memory upstream.Conn. The relay's behaviour with real
// stdio processes is covered by the gateway's integration tests; here a
// fake makes every routing decision observable.
type fakeConn struct {
	name string
	info *upstream.Info
	h    upstream.Handler
	// serve answers calls; nil result and nil error means "block until ctx".
	serve func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error)

	mu        sync.Mutex
	calls     []fakeCall
	responses []*jsonrpc.Message
	notes     []*jsonrpc.Message
	respCh    chan *jsonrpc.Message
}

type fakeCall struct {
	method string
	params json.RawMessage
}

func (f *fakeConn) Name() string          { return f.name }
func (f *fakeConn) State() upstream.State { return upstream.StateReady }
func (f *fakeConn) Info() *upstream.Info  { return f.info }
func (f *fakeConn) Call(ctx context.Context, method string, params json.RawMessage) (*jsonrpc.Message, error) {
	f.mu.Lock()
	f.calls = append(f.calls, fakeCall{method, params})
	f.mu.Unlock()
	res, rpcErr := f.serve(ctx, method, params)
	if res == nil && rpcErr == nil {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if rpcErr != nil {
		return jsonrpc.NewErrorResponse(json.RawMessage("1"), rpcErr), nil
	}
	return jsonrpc.NewResponse(json.RawMessage("1"), res), nil
}
func (f *fakeConn) Notify(ctx context.Context, method string, params json.RawMessage) error {
	f.mu.Lock()
	f.notes = append(f.notes, jsonrpc.NewNotification(method, params))
	f.mu.Unlock()
	return nil
}
func (f *fakeConn) Respond(ctx context.Context, msg *jsonrpc.Message) error {
	f.mu.Lock()
	f.responses = append(f.responses, msg)
	ch := f.respCh
	f.mu.Unlock()
	if ch != nil {
		ch <- msg
	}
	return nil
}

func (f *fakeConn) lastCall() fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[len(f.calls)-1]
}

func toolsInfo() *upstream.Info {
	return &upstream.Info{ProtocolVersion: "2025-06-18", Capabilities: upstream.Capabilities{
		Tools: &upstream.ListCap{ListChanged: true}, Prompts: &upstream.ListCap{},
		Resources: &upstream.ResourcesCap{Subscribe: true}, Logging: json.RawMessage(`{}`),
	}}
}

// listServer answers the list methods with fixed items and echoes calls.
func listServer(tools, resources, templates string) func(context.Context, string, json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
	return func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
		switch method {
		case "tools/list":
			return json.RawMessage(`{"tools":` + tools + `}`), nil
		case "prompts/list":
			return json.RawMessage(`{"prompts":[{"name":"greet"}]}`), nil
		case "resources/list":
			return json.RawMessage(`{"resources":` + resources + `}`), nil
		case "resources/templates/list":
			return json.RawMessage(`{"resourceTemplates":` + templates + `}`), nil
		}
		return json.RawMessage(`{"echo":` + strconv.Quote(string(params)) + `}`), nil
	}
}

// recStream records what the relay sends on a stream.
type recStream struct {
	mu   sync.Mutex
	msgs []*jsonrpc.Message
	ch   chan *jsonrpc.Message
}

func newRecStream() *recStream { return &recStream{ch: make(chan *jsonrpc.Message, 16)} }

func (s *recStream) Send(m *jsonrpc.Message) error {
	s.mu.Lock()
	s.msgs = append(s.msgs, m)
	s.mu.Unlock()
	s.ch <- m
	return nil
}

func (s *recStream) next(t *testing.T) *jsonrpc.Message {
	t.Helper()
	select {
	case m := <-s.ch:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message on stream")
		return nil
	}
}

func newTestRelay(t *testing.T, opts Options, conns ...*fakeConn) *Relay {
	t.Helper()
	r := New(opts)
	for _, c := range conns {
		c.h = r
		r.Register(Upstream{Conn: c, CallTimeout: 5 * time.Second})
	}
	r.Refresh(context.Background())
	t.Cleanup(r.Close)
	return r
}

func request(id int, method, params string) *jsonrpc.Message {
	m := jsonrpc.NewRequest(json.RawMessage(strconv.Itoa(id)), method, nil)
	if params != "" {
		m.Params = json.RawMessage(params)
	}
	return m
}

func names(t *testing.T, result json.RawMessage, field string) []string {
	t.Helper()
	var res map[string][]struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(result, &res); err != nil {
		t.Fatalf("decoding %s: %v", result, err)
	}
	var out []string
	for _, it := range res[field] {
		out = append(out, it.Name)
	}
	return out
}

func TestAggregationNamespacesAndRoutes(t *testing.T) {
	a := &fakeConn{name: "a", info: toolsInfo(), serve: listServer(`[{"name":"echo"},{"name":"only_a"}]`, `[{"uri":"file:///a","name":"fa"}]`, `[]`)}
	b := &fakeConn{name: "b", info: toolsInfo(), serve: listServer(`[{"name":"echo","inputSchema":{"type":"object"}}]`, `[{"uri":"test://b","name":"tb"}]`, `[{"uriTemplate":"test://t/{id}/data","name":"tmpl"}]`)}
	r := newTestRelay(t, Options{}, a, b)
	c := &Client{SessionID: "s1"}

	resp := r.HandleRequest(context.Background(), c, request(1, "tools/list", ""), newRecStream())
	if diff := cmp.Diff([]string{"a__echo", "a__only_a", "b__echo"}, names(t, resp.Result, "tools")); diff != "" {
		t.Errorf("tools (-want +got):\n%s", diff)
	}
	resp = r.HandleRequest(context.Background(), c, request(2, "prompts/list", ""), newRecStream())
	if diff := cmp.Diff([]string{"a__greet", "b__greet"}, names(t, resp.Result, "prompts")); diff != "" {
		t.Errorf("prompts (-want +got):\n%s", diff)
	}

	resp = r.HandleRequest(context.Background(), c, request(3, "tools/call", `{"name":"b__echo","arguments":{"x":1}}`), newRecStream())
	if resp.Error != nil {
		t.Fatalf("tools/call: %v", resp.Error)
	}
	// Only the name changes: the rest of the params, key order included,
	// reaches the upstream as the client wrote it.
	if got := b.lastCall(); got.method != "tools/call" || string(got.params) != `{"name":"echo","arguments":{"x":1}}` {
		t.Errorf("upstream b got %s %s", got.method, got.params)
	}
	if string(resp.ID) != "3" {
		t.Errorf("response id = %s, want 3", resp.ID)
	}

	tests := []struct {
		uri      string
		upstream *fakeConn
	}{
		{"file:///a", a},
		{"test://b", b},
		{"test://t/42/data", b},
	}
	for _, tc := range tests {
		resp := r.HandleRequest(context.Background(), c, request(4, "resources/read", `{"uri":"`+tc.uri+`"}`), newRecStream())
		if resp.Error != nil {
			t.Errorf("read %s: %v", tc.uri, resp.Error)
			continue
		}
		if got := tc.upstream.lastCall(); got.method != "resources/read" {
			t.Errorf("read %s went elsewhere: %s", tc.uri, got.method)
		}
	}
	resp = r.HandleRequest(context.Background(), c, request(5, "resources/read", `{"uri":"test://nowhere"}`), newRecStream())
	if resp.Error == nil || resp.Error.Code != jsonrpc.CodeResourceNotFound {
		t.Errorf("unknown resource: got %+v, want -32002", resp.Error)
	}
}

func TestSingleUpstreamUnprefixed(t *testing.T) {
	a := &fakeConn{name: "a", info: toolsInfo(), serve: listServer(`[{"name":"echo"}]`, `[]`, `[]`)}
	r := newTestRelay(t, Options{}, a)
	resp := r.HandleRequest(context.Background(), &Client{SessionID: "s"}, request(1, "tools/list", ""), newRecStream())
	if got := string(resp.Result); got != `{"tools":[{"name":"echo"}]}` {
		t.Errorf("tools/list = %s: a lone upstream's list should pass unchanged", got)
	}
	resp = r.HandleRequest(context.Background(), &Client{SessionID: "s"}, request(2, "tools/call", `{"name":"echo"}`), newRecStream())
	if got := a.lastCall(); string(got.params) != `{"name":"echo"}` {
		t.Errorf("params re-encoded: %s", got.params)
	}
	if resp.Error != nil {
		t.Error(resp.Error)
	}
}

func TestErrors(t *testing.T) {
	a := &fakeConn{name: "a", info: toolsInfo(), serve: func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
		if method == "tools/list" {
			return json.RawMessage(`{"tools":[{"name":"x"}]}`), nil
		}
		return nil, &jsonrpc.Error{Code: -32602, Message: "bad arguments"}
	}}
	r := newTestRelay(t, Options{}, a)
	c := &Client{SessionID: "s"}
	tests := []struct {
		name     string
		msg      *jsonrpc.Message
		wantCode int
	}{
		{"unknown method", request(1, "nope/nothing", ""), jsonrpc.CodeMethodNotFound},
		{"unknown tool", request(2, "tools/call", `{"name":"y"}`), jsonrpc.CodeInvalidParams},
		{"missing name", request(3, "tools/call", `{}`), jsonrpc.CodeInvalidParams},
		{"upstream error passes through", request(4, "tools/call", `{"name":"x"}`), -32602},
		{"bad cursor", request(5, "tools/list", `{"cursor":"zzz"}`), jsonrpc.CodeInvalidParams},
		{"initialize again", request(6, "initialize", `{}`), jsonrpc.CodeInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := r.HandleRequest(context.Background(), c, tc.msg, newRecStream())
			if resp.Error == nil || resp.Error.Code != tc.wantCode {
				t.Errorf("got %+v, want code %d", resp.Error, tc.wantCode)
			}
		})
	}
	if resp := r.HandleRequest(context.Background(), c, request(7, "ping", ""), newRecStream()); string(resp.Result) != "{}" {
		t.Errorf("ping = %s", resp.Result)
	}
}

func TestProgressTokenRewrittenAndRestored(t *testing.T) {
	var r *Relay
	a := &fakeConn{name: "a", info: toolsInfo()}
	a.serve = func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
		if method == "tools/list" {
			return json.RawMessage(`{"tools":[{"name":"slow"}]}`), nil
		}
		if strings.HasSuffix(method, "/list") {
			return json.RawMessage(`{}`), nil
		}
		var p struct {
			Meta struct {
				ProgressToken string `json:"progressToken"`
			} `json:"_meta"`
		}
		_ = json.Unmarshal(params, &p)
		r.UpstreamMessage("a", jsonrpc.NewNotification("notifications/progress",
			json.RawMessage(`{"progressToken":"`+p.Meta.ProgressToken+`","progress":1,"total":2}`)))
		return json.RawMessage(`{"content":[]}`), nil
	}
	r = newTestRelay(t, Options{}, a)
	out := newRecStream()
	resp := r.HandleRequest(context.Background(), &Client{SessionID: "s"}, request(9, "tools/call", `{"name":"slow","_meta":{"progressToken":77}}`), out)
	if resp.Error != nil {
		t.Fatal(resp.Error)
	}
	if got := a.lastCall().params; string(got) == `{"name":"slow","_meta":{"progressToken":77}}` {
		t.Errorf("progress token not rewritten: %s", got)
	}
	msg := out.next(t)
	if msg.Method != "notifications/progress" || string(msg.Params) != `{"progress":1,"progressToken":77,"total":2}` {
		t.Errorf("progress = %s %s", msg.Method, msg.Params)
	}
}

func TestClientCancellation(t *testing.T) {
	started := make(chan struct{})
	a := &fakeConn{name: "a", info: toolsInfo()}
	a.serve = func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
		if method == "tools/list" {
			return json.RawMessage(`{"tools":[{"name":"block"}]}`), nil
		}
		if strings.HasSuffix(method, "/list") {
			return json.RawMessage(`{}`), nil
		}
		close(started)
		return nil, nil // block until cancelled
	}
	r := newTestRelay(t, Options{}, a)
	c := &Client{SessionID: "s"}
	done := make(chan *jsonrpc.Message)
	go func() {
		done <- r.HandleRequest(context.Background(), c, request(5, "tools/call", `{"name":"block"}`), newRecStream())
	}()
	<-started
	r.HandleNotification(context.Background(), c, jsonrpc.NewNotification("notifications/cancelled", json.RawMessage(`{"requestId":5}`)))
	if resp := <-done; resp != nil {
		t.Errorf("cancelled request answered: %+v", resp)
	}
}

func TestServerRequestRelayedToTheCallingSession(t *testing.T) {
	var r *Relay
	a := &fakeConn{name: "a", info: toolsInfo(), respCh: make(chan *jsonrpc.Message, 1)}
	answered := make(chan struct{})
	a.serve = func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
		if method == "tools/list" {
			return json.RawMessage(`{"tools":[{"name":"sample"}]}`), nil
		}
		if strings.HasSuffix(method, "/list") {
			return json.RawMessage(`{}`), nil
		}
		r.UpstreamMessage("a", jsonrpc.NewRequest(json.RawMessage(`"up-1"`), "sampling/createMessage", json.RawMessage(`{"messages":[]}`)))
		<-answered
		return json.RawMessage(`{"content":[{"type":"text","text":"done"}]}`), nil
	}
	r = newTestRelay(t, Options{}, a)
	withSampling := &Client{SessionID: "s1", Capabilities: ClientCapabilities{Sampling: true}, Standalone: newRecStream()}
	r.Attach(withSampling)
	out := newRecStream()
	done := make(chan *jsonrpc.Message)
	go func() {
		done <- r.HandleRequest(context.Background(), withSampling, request(1, "tools/call", `{"name":"sample"}`), out)
	}()
	req := out.next(t)
	if req.Method != "sampling/createMessage" || string(req.ID) == `"up-1"` {
		t.Fatalf("client got %s id %s; want sampling with a gateway id", req.Method, req.ID)
	}
	// Another session cannot answer it.
	r.HandleResponse(context.Background(), &Client{SessionID: "intruder"}, jsonrpc.NewResponse(req.ID, json.RawMessage(`{"evil":true}`)))
	r.HandleResponse(context.Background(), withSampling, jsonrpc.NewResponse(req.ID, json.RawMessage(`{"role":"assistant"}`)))
	got := <-a.respCh
	if string(got.ID) != `"up-1"` || string(got.Result) != `{"role":"assistant"}` {
		t.Errorf("upstream got %s %s", got.ID, got.Result)
	}
	close(answered)
	if resp := <-done; resp.Error != nil {
		t.Error(resp.Error)
	}
}

func TestServerRequestWithoutCapabilityIsRefused(t *testing.T) {
	var r *Relay
	a := &fakeConn{name: "a", info: toolsInfo(), respCh: make(chan *jsonrpc.Message, 1)}
	a.serve = func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
		if method == "tools/list" {
			return json.RawMessage(`{"tools":[{"name":"sample"}]}`), nil
		}
		if strings.HasSuffix(method, "/list") {
			return json.RawMessage(`{}`), nil
		}
		r.UpstreamMessage("a", jsonrpc.NewRequest(json.RawMessage(`7`), "sampling/createMessage", json.RawMessage(`{}`)))
		got := <-a.respCh
		return jsonrpc.MustRaw(map[string]any{"err": got.Error}), nil
	}
	r = newTestRelay(t, Options{}, a)
	resp := r.HandleRequest(context.Background(), &Client{SessionID: "s"}, request(1, "tools/call", `{"name":"sample"}`), newRecStream())
	if want := `{"err":{"code":-32601,"message":"Client does not support sampling/createMessage"}}`; string(resp.Result) != want {
		t.Errorf("got %s, want %s", resp.Result, want)
	}
}

func TestListChangedRefreshesAndBroadcasts(t *testing.T) {
	var mu sync.Mutex
	tools := `[{"name":"one"}]`
	a := &fakeConn{name: "a", info: toolsInfo()}
	a.serve = func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
		mu.Lock()
		defer mu.Unlock()
		if method == "tools/list" {
			return json.RawMessage(`{"tools":` + tools + `}`), nil
		}
		return json.RawMessage(`{}`), nil
	}
	r := newTestRelay(t, Options{}, a)
	s1, s2 := newRecStream(), newRecStream()
	r.Attach(&Client{SessionID: "s1", Standalone: s1})
	r.Attach(&Client{SessionID: "s2", Standalone: s2})
	mu.Lock()
	tools = `[{"name":"one"},{"name":"two"}]`
	mu.Unlock()
	r.UpstreamMessage("a", jsonrpc.NewNotification("notifications/tools/list_changed", nil))
	for _, s := range []*recStream{s1, s2} {
		if m := s.next(t); m.Method != "notifications/tools/list_changed" {
			t.Errorf("got %s", m.Method)
		}
	}
	resp := r.HandleRequest(context.Background(), &Client{SessionID: "s1"}, request(1, "tools/list", ""), newRecStream())
	if diff := cmp.Diff([]string{"one", "two"}, names(t, resp.Result, "tools")); diff != "" {
		t.Errorf("tools after change (-want +got):\n%s", diff)
	}
}

func TestUnavailableUpstreamIsAnError(t *testing.T) {
	a := &fakeConn{name: "a", info: toolsInfo()}
	a.serve = func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
		return json.RawMessage(`{"tools":[{"name":"x"}]}`), nil
	}
	r := newTestRelay(t, Options{}, a)
	a.serve = nil
	dead := &deadConn{a}
	r.upstreams[0].Conn = dead
	resp := r.HandleRequest(context.Background(), &Client{SessionID: "s"}, request(1, "tools/call", `{"name":"x"}`), newRecStream())
	if resp.Error == nil || resp.Error.Code != jsonrpc.CodeUpstreamUnavailable {
		t.Errorf("got %+v", resp.Error)
	}
}

type deadConn struct{ *fakeConn }

func (d *deadConn) Call(ctx context.Context, method string, params json.RawMessage) (*jsonrpc.Message, error) {
	return nil, errors.Join(errors.New("process exited"), upstream.ErrUnavailable)
}

func TestInitializeNegotiates(t *testing.T) {
	r := newTestRelay(t, Options{ServerVersion: "1.2.3"})
	tests := []struct{ asked, want string }{
		{"2025-03-26", "2025-03-26"},
		{"2025-06-18", "2025-06-18"},
		{"2025-11-25", "2025-11-25"},
		{"1999-01-01", "2025-11-25"},
	}
	for _, tc := range tests {
		res, rpcErr := r.Initialize(context.Background(), anyPrincipal, json.RawMessage(`{"protocolVersion":"`+tc.asked+`","capabilities":{"sampling":{}},"clientInfo":{"name":"t","version":"1"}}`))
		if rpcErr != nil {
			t.Fatal(rpcErr)
		}
		if res.ProtocolVersion != tc.want || !res.Capabilities.Sampling || res.Capabilities.Elicitation {
			t.Errorf("asked %s: got %+v", tc.asked, res)
		}
	}
	if _, rpcErr := r.Initialize(context.Background(), anyPrincipal, json.RawMessage(`{"capabilities":{}}`)); rpcErr == nil || rpcErr.Code != jsonrpc.CodeInvalidParams {
		t.Errorf("missing protocolVersion: %+v", rpcErr)
	}
}

var anyPrincipal = principalForTest()

func TestLastSubscriberLeavingUnsubscribesUpstream(t *testing.T) {
	a := &fakeConn{name: "a", info: toolsInfo(), serve: listServer(`[]`, `[{"uri":"test://w","name":"w"}]`, `[]`)}
	r := newTestRelay(t, Options{}, a)
	c1, c2 := &Client{SessionID: "s1"}, &Client{SessionID: "s2"}
	r.Attach(c1)
	r.Attach(c2)
	count := func(method string) int {
		a.mu.Lock()
		defer a.mu.Unlock()
		n := 0
		for _, c := range a.calls {
			if c.method == method {
				n++
			}
		}
		return n
	}
	for _, c := range []*Client{c1, c2} {
		if resp := r.HandleRequest(context.Background(), c, request(1, "resources/subscribe", `{"uri":"test://w"}`), newRecStream()); resp.Error != nil {
			t.Fatal(resp.Error)
		}
	}
	if n := count("resources/subscribe"); n != 1 {
		t.Errorf("upstream subscribed %d times for two sessions, want once", n)
	}
	r.Detach("s1")
	r.Detach("s2")
	r.wg.Wait()
	if n := count("resources/unsubscribe"); n != 1 {
		t.Errorf("upstream unsubscribed %d times after the last session left, want once", n)
	}
}

// TestAmbiguousServerRequestIsNeverMisdelivered: with calls of two sessions
// in flight on one shared upstream, a sampling request that carries no link
// to its origin is refused rather than guessed onto either session.
func TestAmbiguousServerRequestIsNeverMisdelivered(t *testing.T) {
	a := &fakeConn{name: "a", info: toolsInfo(), respCh: make(chan *jsonrpc.Message, 1)}
	var started sync.WaitGroup
	started.Add(2)
	a.serve = func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
		if method == "tools/list" {
			return json.RawMessage(`{"tools":[{"name":"block"}]}`), nil
		}
		if strings.HasSuffix(method, "/list") {
			return json.RawMessage(`{}`), nil
		}
		started.Done()
		return nil, nil // block until cancelled
	}
	r := newTestRelay(t, Options{}, a)
	s1, s2 := newRecStream(), newRecStream()
	c1 := &Client{SessionID: "s1", Capabilities: ClientCapabilities{Sampling: true}, Standalone: s1}
	c2 := &Client{SessionID: "s2", Capabilities: ClientCapabilities{Sampling: true}, Standalone: s2}
	r.Attach(c1)
	r.Attach(c2)
	ctx, cancel := context.WithCancel(context.Background())
	var done sync.WaitGroup
	for _, c := range []*Client{c1, c2} {
		done.Go(func() { r.HandleRequest(ctx, c, request(1, "tools/call", `{"name":"block"}`), newRecStream()) })
	}
	started.Wait()
	r.UpstreamMessage("a", jsonrpc.NewRequest(json.RawMessage(`"q"`), "sampling/createMessage", json.RawMessage(`{}`)))
	got := <-a.respCh
	if got.Error == nil || string(got.ID) != `"q"` {
		t.Errorf("upstream got %+v, want an error for request q", got)
	}
	cancel()
	done.Wait()
	for i, s := range []*recStream{s1, s2} {
		s.mu.Lock()
		if len(s.msgs) != 0 {
			t.Errorf("session %d received %d messages; want none", i+1, len(s.msgs))
		}
		s.mu.Unlock()
	}
}

func TestToolReadOnly(t *testing.T) {
	a := &fakeConn{name: "a", info: toolsInfo(), serve: listServer(`[{"name":"look","annotations":{"readOnlyHint":true}},{"name":"touch"}]`, `[]`, `[]`)}
	r := newTestRelay(t, Options{PrefixSingle: true}, a)
	tests := []struct {
		name            string
		readOnly, found bool
	}{
		{"a__look", true, true},
		{"a__touch", false, true},
		{"look", false, false},
	}
	for _, tc := range tests {
		ro, found := r.ToolReadOnly(context.Background(), &Client{SessionID: "s"}, tc.name)
		if ro != tc.readOnly || found != tc.found {
			t.Errorf("ToolReadOnly(%q) = %v, %v; want %v, %v", tc.name, ro, found, tc.readOnly, tc.found)
		}
	}
}

func TestOnCallTimeout(t *testing.T) {
	a := &fakeConn{name: "a", info: toolsInfo()}
	a.serve = func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
		if method == "tools/list" {
			return json.RawMessage(`{"tools":[{"name":"hang"}]}`), nil
		}
		if strings.HasSuffix(method, "/list") {
			return json.RawMessage(`{}`), nil
		}
		return nil, nil // block until the deadline
	}
	var timedOut atomic.Value
	r := New(Options{OnCallTimeout: func(name string) { timedOut.Store(name) }})
	r.Register(Upstream{Conn: a, CallTimeout: 20 * time.Millisecond})
	r.Refresh(context.Background())
	defer r.Close()
	resp := r.HandleRequest(context.Background(), &Client{SessionID: "s"}, request(1, "tools/call", `{"name":"hang"}`), newRecStream())
	if resp.Error == nil || resp.Error.Code != jsonrpc.CodeUpstreamUnavailable {
		t.Errorf("got %+v, want a -32001 error", resp.Error)
	}
	if got, _ := timedOut.Load().(string); got != "a" {
		t.Errorf("OnCallTimeout got %q, want \"a\"", got)
	}
}
