package relay

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

func modernInfo() *upstream.Info {
	return &upstream.Info{Era: upstream.EraModern, ProtocolVersion: mcp.Version20260728, SupportedVersions: []string{mcp.Version20260728},
		Capabilities: upstream.Capabilities{Tools: &upstream.ListCap{}, Logging: json.RawMessage(`{}`)}}
}

// TestModernSessionMeta: a session client's requests to a modern upstream
// carry its _meta; its logging/setLevel is recorded, not forwarded, and
// travels as logLevel; a 2026 client's _meta passes through as bytes.
func TestModernSessionMeta(t *testing.T) {
	m := &fakeConn{name: "m", info: modernInfo(), serve: listServer(`[{"name":"echo"}]`, `[]`, `[]`)}
	r := newTestRelay(t, Options{}, m)
	session := &Client{SessionID: "s1", ProtocolVersion: "2025-11-25",
		Capabilities: ClientCapabilities{Sampling: true, Raw: json.RawMessage(`{"sampling": {}}`)}, ClientInfo: json.RawMessage(`{"name":"c","version":"1"}`)}
	r.Attach(session)
	stateless := &Client{SessionID: "stateless-1", Stateless: true}
	clientMeta := `{"name":"echo","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}`

	tests := []struct {
		name   string
		client *Client
		before func()
		params string
		want   string
	}{
		{"session, no level", session, nil, `{"name":"echo"}`,
			`{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"sampling":{}},"io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"}},"name":"echo"}`},
		{"session after setLevel", session, func() {
			if resp := r.HandleRequest(context.Background(), session, request(9, "logging/setLevel", `{"level":"warning"}`), newRecStream()); resp.Error != nil {
				t.Fatal(resp.Error)
			}
		}, `{"name":"echo"}`,
			`{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"sampling":{}},"io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"},"io.modelcontextprotocol/logLevel":"warning"},"name":"echo"}`},
		{"stateless passes through", stateless, nil, clientMeta, clientMeta},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.before != nil {
				tt.before()
			}
			resp := r.HandleRequest(context.Background(), tt.client, request(i+1, "tools/call", tt.params), newRecStream())
			if resp == nil || resp.Error != nil {
				t.Fatalf("response %v", resp)
			}
			if got := string(m.lastCall().params); got != tt.want {
				t.Errorf("upstream got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.calls {
		if c.method == mcp.MethodLoggingSetLevel {
			t.Error("logging/setLevel was forwarded to the modern upstream")
		}
	}
}

// answerAll answers every server→client request on out with
// {"answered":"<method>"} until ctx ends; it counts the requests.
func answerAll(ctx context.Context, r *Relay, c *Client, out *recStream, n *atomic.Int32) {
	for {
		select {
		case m := <-out.ch:
			if m.IsRequest() {
				n.Add(1)
				r.HandleResponse(ctx, c, jsonrpc.NewResponse(m.ID, json.RawMessage(`{"answered":"`+m.Method+`"}`)))
			}
		case <-ctx.Done():
			return
		}
	}
}

// TestModernInputRequiredDriven: a modern upstream's InputRequiredResult
// for a session client is driven by the gateway (docs/protocol-eras.md
// §4.3 B).
func TestModernInputRequiredDriven(t *testing.T) {
	const twoInputs = `{"resultType":"input_required","inputRequests":{"r1":{"method":"sampling/createMessage","params":{"maxTokens":1}},"r2":{"method":"roots/list"}},"requestState":"s1"}`
	tests := []struct {
		name      string
		caps      ClientCapabilities
		serve     func(round int, params json.RawMessage) string // the upstream's result in round n (1-based)
		wantCode  int
		wantAsked int32
		wantCalls int
	}{
		{"two inputs, then complete", ClientCapabilities{Sampling: true, Roots: true}, func(round int, params json.RawMessage) string {
			if round == 1 {
				return twoInputs
			}
			if !strings.Contains(string(params), `"inputResponses":{"r1":{"answered":"sampling/createMessage"},"r2":{"answered":"roots/list"}}`) ||
				!strings.Contains(string(params), `"requestState":"s1"`) || !strings.Contains(string(params), `"io.modelcontextprotocol/protocolVersion"`) {
				return `{"resultType":"complete","content":[],"bad":` + string(jsonrpc.AppendString(nil, string(params))) + `}`
			}
			return `{"resultType":"complete","content":[{"type":"text","text":"ok"}]}`
		}, 0, 2, 2},
		{"undeclared capability", ClientCapabilities{Sampling: true}, func(int, json.RawMessage) string { return twoInputs }, mcp.CodeMissingClientCapability, 0, 1},
		{"round cap", ClientCapabilities{Sampling: true, Roots: true}, func(int, json.RawMessage) string { return twoInputs }, jsonrpc.CodeInternalError, 2 * maxInputRounds, maxInputRounds + 1},
		{"load shedding gives up", ClientCapabilities{}, func(int, json.RawMessage) string { return `{"resultType":"input_required"}` },
			jsonrpc.CodeInternalError, 0, maxLoadShedRetries + 1},
		{"state only carries on", ClientCapabilities{}, func(round int, params json.RawMessage) string {
			if round == 1 {
				return `{"resultType":"input_required","requestState":"s2"}`
			}
			if strings.Contains(string(params), `"requestState":"s2"`) && !strings.Contains(string(params), "inputResponses") {
				return `{"resultType":"complete","content":[]}`
			}
			return `{"resultType":"complete","bad":true}`
		}, 0, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var round atomic.Int32
			m := &fakeConn{name: "m", info: modernInfo()}
			m.serve = func(_ context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
				if method == "tools/list" {
					return json.RawMessage(`{"tools":[{"name":"ask"}]}`), nil
				}
				if method != "tools/call" {
					return json.RawMessage(`{}`), nil
				}
				return json.RawMessage(tt.serve(int(round.Add(1)), params)), nil
			}
			r := newTestRelay(t, Options{}, m)
			c := &Client{SessionID: "s1", ProtocolVersion: "2025-11-25", Capabilities: tt.caps}
			r.Attach(c)
			out := newRecStream()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var asked atomic.Int32
			done := make(chan struct{})
			go func() { defer close(done); answerAll(ctx, r, c, out, &asked) }()
			resp := r.HandleRequest(context.Background(), c, request(1, "tools/call", `{"name":"ask"}`), out)
			cancel()
			<-done
			switch {
			case tt.wantCode != 0 && (resp.Error == nil || resp.Error.Code != tt.wantCode):
				t.Errorf("response %s %v, want error %d", resp.Result, resp.Error, tt.wantCode)
			case tt.wantCode == 0 && (resp.Error != nil || strings.Contains(string(resp.Result), "bad")):
				t.Errorf("response %s %v", resp.Result, resp.Error)
			}
			if asked.Load() != tt.wantAsked || int(round.Load()) != tt.wantCalls {
				t.Errorf("client asked %d times, upstream called %d times; want %d and %d", asked.Load(), round.Load(), tt.wantAsked, tt.wantCalls)
			}
		})
	}
}

// TestModernInputRequiredCancelled: the client cancelling the call while
// it is being asked for input withdraws the pending request and sends no
// response.
func TestModernInputRequiredCancelled(t *testing.T) {
	m := &fakeConn{name: "m", info: modernInfo()}
	m.serve = func(_ context.Context, method string, _ json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
		if method == "tools/list" {
			return json.RawMessage(`{"tools":[{"name":"ask"}]}`), nil
		}
		if method != "tools/call" {
			return json.RawMessage(`{}`), nil
		}
		return json.RawMessage(`{"resultType":"input_required","inputRequests":{"r1":{"method":"sampling/createMessage","params":{}}}}`), nil
	}
	r := newTestRelay(t, Options{}, m)
	c := &Client{SessionID: "s1", Capabilities: ClientCapabilities{Sampling: true}}
	r.Attach(c)
	out := newRecStream()
	done := make(chan *jsonrpc.Message)
	go func() {
		done <- r.HandleRequest(context.Background(), c, request(7, "tools/call", `{"name":"ask"}`), out)
	}()
	req := out.next(t)
	if req.Method != mcp.MethodSamplingCreateMessage {
		t.Fatalf("client got %s", req.Method)
	}
	r.HandleNotification(context.Background(), c, jsonrpc.NewNotification(mcp.NotificationCancelled, json.RawMessage(`{"requestId":7}`)))
	if resp := <-done; resp != nil {
		t.Errorf("cancelled call answered %v", resp)
	}
	if n := out.next(t); n.Method != mcp.NotificationCancelled || !strings.Contains(string(n.Params), string(req.ID)) {
		t.Errorf("client got %s %s, want the withdrawal of %s", n.Method, n.Params, req.ID)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.serverReqs) != 0 {
		t.Errorf("%d server requests left pending", len(r.serverReqs))
	}
}

// TestModernResourceSubscription: sessions' resources/subscribe on a modern
// upstream's URI holds one upstream listen for it, ended by the last
// unsubscribe; the upstream's updates reach the subscribed sessions.
func TestModernResourceSubscription(t *testing.T) {
	started, ended := make(chan struct{}, 2), make(chan struct{}, 2)
	var listens atomic.Int32
	m := &fakeConn{name: "m", info: modernInfo()}
	m.serve = func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
		switch method {
		case "resources/list":
			return json.RawMessage(`{"resources":[{"uri":"test://r","name":"r"}]}`), nil
		case mcp.MethodSubscriptionsListen:
			if string(params) != `{"notifications":{"resourceSubscriptions":["test://r"]}}` {
				return nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "unexpected filter "+string(params))
			}
			listens.Add(1)
			started <- struct{}{}
			<-ctx.Done()
			ended <- struct{}{}
			return nil, nil
		case mcp.MethodResourcesSubscribe, mcp.MethodResourcesUnsubscribe:
			t.Errorf("%s sent to a modern upstream", method)
		}
		return json.RawMessage(`{}`), nil
	}
	m.info.Capabilities.Resources = &upstream.ResourcesCap{Subscribe: true}
	r := newTestRelay(t, Options{}, m)
	a := &Client{SessionID: "a", Standalone: newRecStream()}
	b := &Client{SessionID: "b", Standalone: newRecStream()}
	r.Attach(a)
	r.Attach(b)
	for i, c := range []*Client{a, b} {
		if resp := r.HandleRequest(context.Background(), c, request(i+1, "resources/subscribe", `{"uri":"test://r"}`), newRecStream()); resp.Error != nil {
			t.Fatalf("subscribe: %v", resp.Error)
		}
	}
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("no upstream listen")
	}
	r.UpstreamMessage("m", jsonrpc.NewNotification(mcp.NotificationResourceUpdated, json.RawMessage(`{"uri":"test://r"}`)))
	for _, c := range []*Client{a, b} {
		if n := c.Standalone.(*recStream).next(t); n.Method != mcp.NotificationResourceUpdated {
			t.Errorf("session %s got %s", c.SessionID, n.Method)
		}
	}
	// A restart: the listen is opened again on the new process.
	r.UpstreamReady("m", m.info)
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("no upstream listen after the restart")
	}
	<-ended // the previous one, replaced
	if resp := r.HandleRequest(context.Background(), a, request(3, "resources/unsubscribe", `{"uri":"test://r"}`), newRecStream()); resp.Error != nil {
		t.Fatalf("unsubscribe: %v", resp.Error)
	}
	select {
	case <-ended:
		t.Fatal("the listen ended while session b is still subscribed")
	default:
	}
	r.Detach("b") // the last subscriber leaves
	<-ended
	if n := listens.Load(); n != 2 {
		t.Errorf("%d upstream listens, want 2 (one per process)", n)
	}
}

// TestModernListChangesListen: the gateway holds a listen for list changes
// on each modern connection, shared or per user, from UpstreamReady; the
// upstream's list_changed on it refreshes the catalog and reaches the
// sessions; Close ends the listens.
func TestModernListChangesListen(t *testing.T) {
	listening := make(chan string, 4)
	var tools atomic.Value
	tools.Store(`[{"name":"a"}]`)
	newConn := func(name string) *fakeConn {
		info := modernInfo()
		info.Capabilities.Tools = &upstream.ListCap{ListChanged: true}
		c := &fakeConn{name: name, info: info}
		c.serve = func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
			switch method {
			case mcp.MethodSubscriptionsListen:
				listening <- name + " " + string(params)
				return nil, nil // held until ctx ends
			case "tools/list":
				return json.RawMessage(`{"tools":` + tools.Load().(string) + `}`), nil
			}
			return json.RawMessage(`{}`), nil
		}
		return c
	}
	shared := newConn("m")
	r := New(Options{})
	shared.h = r
	r.Register(Upstream{Conn: shared, CallTimeout: 5 * time.Second})
	r.Refresh(context.Background())
	s := &Client{SessionID: "s1", Standalone: newRecStream()}
	r.Attach(s)

	r.UpstreamReady("m", shared.info)
	userConn := newConn("per-user")
	h := r.UserHandler("alice")
	h.Bind(userConn)
	h.UpstreamReady("per-user", userConn.info)
	got := map[string]bool{}
	for range 2 {
		select {
		case l := <-listening:
			got[l] = true
		case <-time.After(5 * time.Second):
			t.Fatalf("listens opened: %v", got)
		}
	}
	for _, want := range []string{`m {"notifications":{"toolsListChanged":true}}`, `per-user {"notifications":{"toolsListChanged":true}}`} {
		if !got[want] {
			t.Errorf("no listen %s; got %v", want, got)
		}
	}

	tools.Store(`[{"name":"a"},{"name":"b"}]`)
	r.UpstreamMessage("m", jsonrpc.NewNotification(mcp.NotificationToolsListChanged,
		json.RawMessage(`{"_meta":{"io.modelcontextprotocol/subscriptionId":1}}`)))
	if n := s.Standalone.(*recStream).next(t); n.Method != mcp.NotificationToolsListChanged {
		t.Errorf("session got %s, want tools/list_changed", n.Method)
	}
	r.Close() // returns once both listens have ended
	r.upListens.mu.Lock()
	defer r.upListens.mu.Unlock()
	if n := len(r.upListens.held); n != 0 {
		t.Errorf("%d listens still held after Close", n)
	}
}

// TestModernURLElicitation: a modern upstream's URL-mode elicitation
// reaches a 2025-11-25 session that declared elicitation.url with a minted
// elicitationId; a session without it gets -32021.
func TestModernURLElicitation(t *testing.T) {
	const urlInput = `{"resultType":"input_required","inputRequests":{"k":{"method":"elicitation/create","params":{"mode":"url","message":"Sign in","url":"https://example.com/auth"}}}}`
	tests := []struct {
		name     string
		caps     string
		version  string
		wantCode int
	}{
		{"url declared", `{"elicitation":{"url":{}}}`, "2025-11-25", 0},
		{"form only", `{"elicitation":{}}`, "2025-11-25", mcp.CodeMissingClientCapability},
		{"older revision", `{"elicitation":{"url":{}}}`, "2025-06-18", mcp.CodeMissingClientCapability},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var round atomic.Int32
			m := &fakeConn{name: "m", info: modernInfo()}
			m.serve = func(_ context.Context, method string, _ json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
				switch {
				case method == "tools/list":
					return json.RawMessage(`{"tools":[{"name":"ask"}]}`), nil
				case method != "tools/call":
					return json.RawMessage(`{}`), nil
				case round.Add(1) == 1:
					return json.RawMessage(urlInput), nil
				}
				return json.RawMessage(`{"resultType":"complete","content":[]}`), nil
			}
			r := newTestRelay(t, Options{}, m)
			c := &Client{SessionID: "s1", ProtocolVersion: tt.version, Capabilities: ClientCapabilities{Elicitation: true, Raw: json.RawMessage(tt.caps)}}
			r.Attach(c)
			out := newRecStream()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			asked := make(chan *jsonrpc.Message, 1)
			go func() {
				select {
				case req := <-out.ch:
					asked <- req
					r.HandleResponse(ctx, c, jsonrpc.NewResponse(req.ID, json.RawMessage(`{"action":"accept"}`)))
				case <-ctx.Done():
				}
			}()
			resp := r.HandleRequest(context.Background(), c, request(1, "tools/call", `{"name":"ask"}`), out)
			if tt.wantCode != 0 {
				if resp.Error == nil || resp.Error.Code != tt.wantCode || !strings.Contains(string(resp.Error.Data), `"url"`) {
					t.Fatalf("response %s %v, want -32021 naming elicitation.url", resp.Result, resp.Error)
				}
				return
			}
			if resp.Error != nil {
				t.Fatalf("error %v", resp.Error)
			}
			req := <-asked
			if !strings.Contains(string(req.Params), `"elicitationId":"mcpgate-elicitation-`) || !strings.Contains(string(req.Params), `"url":"https://example.com/auth"`) {
				t.Errorf("client got %s", req.Params)
			}
		})
	}
}
