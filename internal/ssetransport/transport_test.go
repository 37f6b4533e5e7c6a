package ssetransport

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/httpfront"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
)

// step is one line of a transport script: a POST, its answer, and the
// messages it makes appear on the session's stream.
type step struct {
	name       string
	post       post // session "$" means the script's stream's session
	wantStatus int
	wantErr    string   // a JSON error body with this "error" code
	wantMsgs   []string // JSON-RPC messages on the stream, in order
}

// run plays a script against the stream s, stopping at the first step that
// fails.
func (e *env) run(s *stream, steps []step) {
	e.t.Helper()
	for i, st := range steps {
		p := st.post
		if p.session == "$" {
			p.session = s.session
		}
		r := e.post(p)
		where := fmt.Sprintf("step %d (%s)", i, st.name)
		if r.status != st.wantStatus {
			e.t.Fatalf("%s: status %d, want %d; body %s", where, r.status, st.wantStatus, r.body)
		}
		if st.wantErr != "" {
			var body struct {
				Error, Message string
			}
			if err := json.Unmarshal(r.body, &body); err != nil || body.Error != st.wantErr || body.Message == "" ||
				!strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
				e.t.Fatalf("%s: body %s (%s), want a JSON error %q", where, r.body, r.header.Get("Content-Type"), st.wantErr)
			}
		} else if len(r.body) != 0 {
			e.t.Fatalf("%s: body %q, want none", where, r.body)
		}
		for j, want := range st.wantMsgs {
			wantJSON(e.t, fmt.Sprintf("%s: message %d", where, j), s.message(), want)
		}
	}
}

func initResult(v string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":%q,"capabilities":{},"serverInfo":{"name":"fake","version":"1"}}}`, v)
}

// TestLifecycle: GET /sse, initialize at any revision the gateway speaks
// (2024-11-05 first), requests answered on the stream in order with their
// related messages, and the end of the stream ends the session.
func TestLifecycle(t *testing.T) {
	tests := []struct{ ask, want string }{
		{mcp.Version20241105, mcp.Version20241105},
		{mcp.Version20250618, mcp.Version20250618},
		{mcp.Version20251125, mcp.Version20251125},
		{"1999-01-01", mcp.Latest},
	}
	for _, tt := range tests {
		t.Run(tt.ask, func(t *testing.T) {
			e := newEnv(t, nil)
			s := e.open("")
			e.run(s, []step{
				{name: "initialize", post: post{session: "$", body: initBody(tt.ask)}, wantStatus: 202,
					wantMsgs: []string{initResult(tt.want)}},
				{name: "initialized", post: post{session: "$", body: `{"jsonrpc":"2.0","method":"notifications/initialized"}`}, wantStatus: 202},
				{name: "ping", post: post{session: "$", version: tt.want, body: `{"jsonrpc":"2.0","id":1,"method":"ping"}`}, wantStatus: 202,
					wantMsgs: []string{`{"jsonrpc":"2.0","id":1,"result":{}}`}},
				{name: "echo", post: post{session: "$", accept: "*/*", body: `{"jsonrpc":"2.0","id":"e","method":"echo","params":{"x":[1,2]}}`}, wantStatus: 202,
					wantMsgs: []string{`{"jsonrpc":"2.0","id":"e","result":{"echo":{"x":[1,2]}}}`}},
				{name: "related messages first", post: post{session: "$", body: `{"jsonrpc":"2.0","id":2,"method":"progress","params":{"n":2}}`}, wantStatus: 202,
					wantMsgs: []string{
						`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}`,
						`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":2}}`,
						`{"jsonrpc":"2.0","id":2,"result":{"done":2}}`}},
				{name: "second initialize", post: post{session: "$", body: initBody(tt.ask)}, wantStatus: 202,
					wantMsgs: []string{`{"jsonrpc":"2.0","id":0,"error":{"code":-32601,"message":"Method not found"}}`}},
			})
			if got := e.Core.Notifications(); len(got) != 1 || got[0] != mcp.NotificationInitialized {
				t.Errorf("core got notifications %v", got)
			}
			c := e.Core.Client(s.session)
			if c == nil || c.ProtocolVersion != tt.want || !c.Capabilities.Sampling || string(c.ClientInfo) != `{"name":"legacy","version":"1"}` {
				t.Fatalf("client attached: %+v", c)
			}

			// [T1105]: the client closes the SSE connection; the session
			// ends with it.
			s.close()
			for {
				r := e.post(post{session: s.session, body: `{"jsonrpc":"2.0","id":3,"method":"ping"}`})
				if r.status == http.StatusNotFound {
					break
				}
				// The server may see the disconnection a moment later.
				if r.status != http.StatusAccepted {
					t.Fatalf("POST after the stream closed: %d %s", r.status, r.body)
				}
			}
			if err := e.Hub.WaitIdle(t.Context()); err != nil {
				t.Fatal(err)
			}
			if !e.Core.WasDetached(s.session) {
				t.Error("session not detached after its stream closed")
			}
			if n, _ := e.Mgr.Count(t.Context()); n != 0 {
				t.Errorf("%d sessions left, want 0", n)
			}
		})
	}
}

// TestErrors: every refusal is a JSON error with the right status
// (400 without sessionId, 404 unknown, 403 another principal, …).
func TestErrors(t *testing.T) {
	for _, l := range lanes {
		t.Run(l.name, func(t *testing.T) { testErrors(t, l.front) })
	}
}

func testErrors(t *testing.T, front *httpfront.Options) {
	e := newEnvWith(t, &envConfig{Front: front}, Options{MaxBodyBytes: 1024})
	pending := e.open("alice")
	s := e.initialize(mcp.Version20241105, "alice")
	e.run(s, []step{
		{name: "no sessionId", post: post{session: "-", user: "alice", body: `{"jsonrpc":"2.0","id":1,"method":"ping"}`}, wantStatus: 400, wantErr: "session_required"},
		{name: "empty sessionId", post: post{session: "", user: "alice", body: `{"jsonrpc":"2.0","id":1,"method":"ping"}`}, wantStatus: 400, wantErr: "session_required"},
		{name: "two sessionIds", post: post{query: "sessionId=a&sessionId=b", user: "alice", body: `{}`}, wantStatus: 400, wantErr: "bad_request"},
		{name: "unknown session", post: post{session: "nosuchsession", user: "alice", body: `{"jsonrpc":"2.0","id":1,"method":"ping"}`}, wantStatus: 404, wantErr: "session_not_found"},
		{name: "hostile session id", post: post{session: "../\x00\n", user: "alice", body: `{}`}, wantStatus: 404, wantErr: "session_not_found"},
		{name: "another principal", post: post{session: "$", user: "mallory", body: `{"jsonrpc":"2.0","id":1,"method":"ping"}`}, wantStatus: 403, wantErr: "forbidden"},
		{name: "anonymous on alice's session", post: post{session: "$", body: `{"jsonrpc":"2.0","id":1,"method":"ping"}`}, wantStatus: 403, wantErr: "forbidden"},
		{name: "not JSON", post: post{session: "$", user: "alice", contentType: "text/plain", body: `{}`}, wantStatus: 415, wantErr: "unsupported_media_type"},
		{name: "no Content-Type", post: post{session: "$", user: "alice", contentType: "-", body: `{}`}, wantStatus: 415, wantErr: "unsupported_media_type"},
		{name: "Accept without JSON", post: post{session: "$", user: "alice", accept: "text/event-stream", body: `{}`}, wantStatus: 406, wantErr: "not_acceptable"},
		{name: "Accept JSON q=0", post: post{session: "$", user: "alice", accept: "application/json;q=0", body: `{}`}, wantStatus: 406, wantErr: "not_acceptable"},
		{name: "unsupported version", post: post{session: "$", user: "alice", version: "2023-01-01", body: `{}`}, wantStatus: 400, wantErr: "unsupported_protocol_version"},
		{name: "parse error", post: post{session: "$", user: "alice", body: `{"jsonrpc":`}, wantStatus: 400, wantErr: "parse_error"},
		{name: "batch in 2024-11-05", post: post{session: "$", user: "alice", body: `[{"jsonrpc":"2.0","id":1,"method":"ping"}]`}, wantStatus: 400, wantErr: "invalid_request"},
		{name: "too large", post: post{session: "$", user: "alice", body: `{"jsonrpc":"2.0","id":1,"method":"echo","params":"` + strings.Repeat("x", 2048) + `"}`}, wantStatus: 413, wantErr: "payload_too_large"},
		{name: "still fine", post: post{session: "$", user: "alice", body: `{"jsonrpc":"2.0","id":9,"method":"ping"}`}, wantStatus: 202,
			wantMsgs: []string{`{"jsonrpc":"2.0","id":9,"result":{}}`}},
	})
	// Before initialize, only a lone initialize is taken.
	e.run(pending, []step{
		{name: "request before initialize", post: post{session: "$", user: "alice", body: `{"jsonrpc":"2.0","id":1,"method":"ping"}`}, wantStatus: 400, wantErr: "not_initialized"},
		{name: "notification before initialize", post: post{session: "$", user: "alice", body: `{"jsonrpc":"2.0","method":"notifications/initialized"}`}, wantStatus: 400, wantErr: "not_initialized"},
		{name: "initialize in a batch", post: post{session: "$", user: "alice", body: "[" + initBody(mcp.Version20241105) + "]"}, wantStatus: 400, wantErr: "invalid_request"},
		{name: "initialize by another principal", post: post{session: "$", user: "mallory", body: initBody(mcp.Version20241105)}, wantStatus: 403, wantErr: "forbidden"},
	})
	e.Core.FailInit = nil
	e.run(pending, []step{
		{name: "bad initialize params", post: post{session: "$", user: "alice", body: `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}`}, wantStatus: 202,
			wantMsgs: []string{`{"jsonrpc":"2.0","id":0,"error":{"code":-32602,"message":"protocolVersion is required"}}`}},
		{name: "initialize after a refusal", post: post{session: "$", user: "alice", body: initBody(mcp.Version20241105)}, wantStatus: 202,
			wantMsgs: []string{initResult(mcp.Version20241105)}},
	})
	// A Streamable HTTP session's ID names no session here.
	ls, _, _, err := e.Hub.Create(t.Context(), e.Core.Client(s.session).Principal, mcpsession.TransportStreamable, json.RawMessage(initBody(mcp.Version20250618)[len(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":`):len(initBody(mcp.Version20250618))-1]))
	if err != nil {
		t.Fatal(err)
	}
	e.run(s, []step{{name: "a streamable session's ID", post: post{session: ls.ID(), user: "alice", body: `{"jsonrpc":"2.0","id":1,"method":"ping"}`}, wantStatus: 404, wantErr: "session_not_found"}})
}

// TestEndpointsRefuse: wrong methods and Accept on GET /sse.
func TestEndpointsRefuse(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name, method, path, accept string
		wantStatus                 int
		wantAllow                  string
	}{
		{"GET without Accept", "GET", "/sse", "", 406, ""},
		{"GET with JSON only", "GET", "/sse", "application/json", 406, ""},
		{"GET with SSE q=0", "GET", "/sse", "text/event-stream;q=0", 406, ""},
		{"POST on /sse", "POST", "/sse", "text/event-stream", 405, "GET"},
		{"GET on /messages", "GET", "/messages?sessionId=x", "text/event-stream", 405, "POST"},
		{"DELETE on /messages", "DELETE", "/messages?sessionId=x", "", 405, "POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), tt.method, e.Srv.URL+tt.path, nil)
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			resp, err := e.Srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || resp.Header.Get("Allow") != tt.wantAllow ||
				!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Errorf("status %d, Allow %q, Content-Type %q; want %d, %q, JSON", resp.StatusCode, resp.Header.Get("Allow"),
					resp.Header.Get("Content-Type"), tt.wantStatus, tt.wantAllow)
			}
		})
	}
	if n, _ := e.Mgr.Count(t.Context()); n != 0 {
		t.Errorf("refused GETs left %d sessions", n)
	}
}

// TestServerToClientRequest: the core asks the client on the stream, the
// client POSTs its answer (202), and the call completes.
func TestServerToClientRequest(t *testing.T) {
	e := newEnv(t, nil)
	s := e.initialize(mcp.Version20241105, "")
	e.run(s, []step{{name: "ask", post: post{session: "$", body: `{"jsonrpc":"2.0","id":1,"method":"ask"}`}, wantStatus: 202,
		wantMsgs: []string{`{"jsonrpc":"2.0","id":"srv-1","method":"sampling/createMessage","params":{"messages":[]}}`}}})
	e.run(s, []step{{name: "answer", post: post{session: "$", body: `{"jsonrpc":"2.0","id":"srv-1","result":{"text":"hi"}}`}, wantStatus: 202,
		wantMsgs: []string{`{"jsonrpc":"2.0","id":1,"result":{"answer":{"text":"hi"}}}`}}})
}

// TestTooManyCalls: a session's calls in flight are bounded (429), as on
// /mcp.
func TestTooManyCalls(t *testing.T) {
	e := newEnv(t, &envConfig{Hub: mcpsession.Options{MaxConcurrentCalls: 1}})
	s := e.initialize(mcp.Version20241105, "")
	e.run(s, []step{
		{name: "first call", post: post{session: "$", body: `{"jsonrpc":"2.0","id":1,"method":"gate","params":{"gate":"A"}}`}, wantStatus: 202,
			wantMsgs: []string{`{"jsonrpc":"2.0","method":"notifications/message","params":{"gate":"A"}}`}},
		{name: "second call", post: post{session: "$", body: `{"jsonrpc":"2.0","id":2,"method":"ping"}`}, wantStatus: 429, wantErr: "too_many_requests"},
		{name: "notifications still taken", post: post{session: "$", body: `{"jsonrpc":"2.0","method":"notifications/x"}`}, wantStatus: 202},
	})
	e.Core.Release("A")
	wantJSON(t, "released", s.message(), `{"jsonrpc":"2.0","id":1,"result":{"gate":"A"}}`)
	e.run(s, []step{{name: "after the call", post: post{session: "$", body: `{"jsonrpc":"2.0","id":3,"method":"ping"}`}, wantStatus: 202,
		wantMsgs: []string{`{"jsonrpc":"2.0","id":3,"result":{}}`}}})
}

// TestResponseTooLarge: a response the stream cannot carry becomes an
// error the client can read; the session goes on.
func TestResponseTooLarge(t *testing.T) {
	e := newEnv(t, &envConfig{Limits: eventlog.Limits{MaxBytes: 512}})
	s := e.initialize(mcp.Version20241105, "")
	e.run(s, []step{
		{name: "huge echo", post: post{session: "$", body: `{"jsonrpc":"2.0","id":1,"method":"echo","params":{"s":"` + strings.Repeat("x", 600) + `"}}`}, wantStatus: 202,
			wantMsgs: []string{`{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"Internal error: the response exceeds the gateway's event size limit"}}`}},
		{name: "next call", post: post{session: "$", body: `{"jsonrpc":"2.0","id":2,"method":"ping"}`}, wantStatus: 202,
			wantMsgs: []string{`{"jsonrpc":"2.0","id":2,"result":{}}`}},
	})
}

// TestMisbehavingCore: a panic or a non-response becomes an internal error
// for that request only.
func TestMisbehavingCore(t *testing.T) {
	e := newEnv(t, nil)
	s := e.initialize(mcp.Version20241105, "")
	e.run(s, []step{
		{name: "panic", post: post{session: "$", body: `{"jsonrpc":"2.0","id":1,"method":"panic"}`}, wantStatus: 202,
			wantMsgs: []string{`{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"Internal error"}}`}},
		{name: "cancelled: no response", post: post{session: "$", body: `{"jsonrpc":"2.0","id":2,"method":"nil"}`}, wantStatus: 202},
		{name: "next", post: post{session: "$", body: `{"jsonrpc":"2.0","id":3,"method":"ping"}`}, wantStatus: 202,
			wantMsgs: []string{`{"jsonrpc":"2.0","id":3,"result":{}}`}},
	})
}

// TestSessionsAreSeparate: two streams, two sessions; messages never cross.
func TestSessionsAreSeparate(t *testing.T) {
	e := newEnv(t, nil)
	a := e.initialize(mcp.Version20241105, "alice")
	b := e.initialize(mcp.Version20241105, "bob")
	if a.session == b.session {
		t.Fatal("two streams share a session")
	}
	e.run(b, []step{{name: "bob", post: post{session: "$", user: "bob", body: `{"jsonrpc":"2.0","id":"b","method":"echo","params":["b"]}`}, wantStatus: 202}})
	e.run(a, []step{{name: "alice", post: post{session: "$", user: "alice", body: `{"jsonrpc":"2.0","id":"a","method":"echo","params":["a"]}`}, wantStatus: 202,
		wantMsgs: []string{`{"jsonrpc":"2.0","id":"a","result":{"echo":["a"]}}`}}})
	wantJSON(t, "bob's stream", b.message(), `{"jsonrpc":"2.0","id":"b","result":{"echo":["b"]}}`)
	var st = e.Hub.Stats()
	if st.Sessions != 2 || st.ByTransport[TransportName] != 2 || st.ByUser["alice"] != 1 || st.ByUser["bob"] != 1 {
		t.Errorf("stats %+v", st)
	}
	if _, err := e.Mgr.Get(t.Context(), a.session); err != nil {
		t.Errorf("alice's session: %v", err)
	}
}
