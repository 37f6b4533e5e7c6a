package streamable

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/session"
)

const (
	codeParse   = jsonrpc.CodeParseError
	codeInvalid = jsonrpc.CodeInvalidRequest
)

func initResult(v string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":%q,"capabilities":{},"serverInfo":{"name":"fake","version":"1"}}}`, v)
}

// TestLifecycle runs the life of a session at each revision: initialize,
// initialized, a fast request (JSON), a streaming request (SSE, primed only
// in 2025-11-25), DELETE, then 404.
func TestLifecycle(t *testing.T) {
	for _, v := range []string{mcp.Version20250326, mcp.Version20250618, mcp.Version20251125} {
		t.Run(v, func(t *testing.T) {
			hdr := v
			if v == mcp.Version20250326 {
				hdr = "" // 2025-03-26 has no MCP-Protocol-Version header
			}
			primed := v == mcp.Version20251125
			newEnv(t, nil).run([]step{
				{name: "initialize", req: req{body: initBody(v)},
					wantStatus: 200, wantType: "json", wantSession: true, wantMsgs: []string{initResult(v)}},
				{name: "initialized", req: req{session: "$", version: hdr, body: `{"jsonrpc":"2.0","method":"notifications/initialized"}`},
					wantStatus: 202, wantType: "empty"},
				{name: "fast request is JSON", req: req{session: "$", version: hdr, body: `{"jsonrpc":"2.0","id":1,"method":"echo","params":{"x":1}}`},
					wantStatus: 200, wantType: "json", wantMsgs: []string{`{"jsonrpc":"2.0","id":1,"result":{"echo":{"x":1}}}`}},
				{name: "string id", req: req{session: "$", version: hdr, body: `{"jsonrpc":"2.0","id":"a-1","method":"echo"}`},
					wantStatus: 200, wantType: "json", wantMsgs: []string{`{"jsonrpc":"2.0","id":"a-1","result":{"echo":null}}`}},
				{name: "related messages make SSE", req: req{session: "$", version: hdr, body: `{"jsonrpc":"2.0","id":2,"method":"progress","params":{"n":2}}`},
					wantStatus: 200, wantType: "sse", wantPriming: primed, wantMsgs: []string{
						`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}`,
						`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":2}}`,
						`{"jsonrpc":"2.0","id":2,"result":{"done":2}}`,
					}},
				{name: "header absent: negotiated version assumed", req: req{session: "$", body: `{"jsonrpc":"2.0","id":3,"method":"echo"}`},
					wantStatus: 200, wantType: "json"},
				{name: "client response", req: req{session: "$", version: hdr, body: `{"jsonrpc":"2.0","id":"srv-9","result":{}}`},
					wantStatus: 202, wantType: "empty"},
				{name: "core error", req: req{session: "$", version: hdr, body: `{"jsonrpc":"2.0","id":4,"method":"nosuch"}`},
					wantStatus: 200, wantType: "json", wantMsgs: []string{`{"jsonrpc":"2.0","id":4,"error":{"code":-32601,"message":"Method not found"}}`}},
				{name: "core panics", req: req{session: "$", version: hdr, body: `{"jsonrpc":"2.0","id":5,"method":"panic"}`},
					wantStatus: 200, wantType: "json", wantMsgs: []string{`{"jsonrpc":"2.0","id":5,"error":{"code":-32603,"message":"Internal error"}}`}},
				{name: "core returns nil", req: req{session: "$", version: hdr, body: `{"jsonrpc":"2.0","id":6,"method":"nil"}`},
					wantStatus: 200, wantType: "json", wantMsgs: []string{`{"jsonrpc":"2.0","id":6,"error":{"code":-32603,"message":"Internal error"}}`}},
				{name: "delete", req: req{method: "DELETE", session: "$", version: hdr},
					wantStatus: 204, wantType: "empty"},
				{name: "terminated session is 404", req: req{session: "$", version: hdr, body: `{"jsonrpc":"2.0","id":7,"method":"echo"}`},
					wantStatus: 404, wantType: "json", wantErrCode: codeInvalid},
				{name: "GET on terminated session is 404", req: req{method: "GET", session: "$", version: hdr},
					wantStatus: 404, wantErrCode: codeInvalid},
				{name: "delete again is 404", req: req{method: "DELETE", session: "$", version: hdr},
					wantStatus: 404, wantErrCode: codeInvalid},
			})
		})
	}
}

// TestPOSTErrors covers every refusal of a POST.
func TestPOSTErrors(t *testing.T) {
	v := mcp.Version20251125
	echo := `{"jsonrpc":"2.0","id":1,"method":"echo"}`
	e := newEnv(t, nil)
	e.run([]step{
		{name: "initialize", req: req{body: initBody(v), user: "alice"}, wantStatus: 200, wantSession: true},

		// Accept ([T §Sending Messages] 2).
		{name: "no Accept", req: req{session: "$", user: "alice", accept: "-", body: echo}, wantStatus: 406, wantErrCode: codeInvalid},
		{name: "Accept json only", req: req{session: "$", user: "alice", accept: "application/json", body: echo}, wantStatus: 406, wantErrCode: codeInvalid},
		{name: "Accept sse only", req: req{session: "$", user: "alice", accept: "text/event-stream", body: echo}, wantStatus: 406, wantErrCode: codeInvalid},
		{name: "Accept sse refused by q=0", req: req{session: "$", user: "alice", accept: "application/json, text/event-stream;q=0", body: echo}, wantStatus: 406},
		{name: "Accept wildcard", req: req{session: "$", user: "alice", accept: "*/*", body: echo}, wantStatus: 200, wantType: "json"},
		{name: "Accept with q and case", req: req{session: "$", user: "alice", accept: "Application/JSON;q=0.9,TEXT/event-stream; q=0.5", body: echo}, wantStatus: 200},
		{name: "Accept split over ranges", req: req{session: "$", user: "alice", accept: "application/*, text/*", body: echo}, wantStatus: 200},

		// Content-Type.
		{name: "no Content-Type", req: req{session: "$", user: "alice", contentType: "-", body: echo}, wantStatus: 415, wantErrCode: codeInvalid},
		{name: "text/plain", req: req{session: "$", user: "alice", contentType: "text/plain", body: echo}, wantStatus: 415},
		{name: "non-UTF-8 charset", req: req{session: "$", user: "alice", contentType: "application/json; charset=latin1", body: echo}, wantStatus: 415},
		{name: "UTF-8 charset", req: req{session: "$", user: "alice", contentType: "application/json; charset=UTF-8", body: echo}, wantStatus: 200},

		// Body.
		{name: "malformed JSON", req: req{session: "$", user: "alice", body: `{"jsonrpc":`}, wantStatus: 400, wantErrCode: codeParse},
		{name: "not a message", req: req{session: "$", user: "alice", body: `{"jsonrpc":"1.0","id":1,"method":"x"}`}, wantStatus: 400, wantErrCode: codeInvalid},
		{name: "null id", req: req{session: "$", user: "alice", body: `{"jsonrpc":"2.0","id":null,"method":"x"}`}, wantStatus: 400, wantErrCode: codeInvalid},
		{name: "too large", req: req{session: "$", user: "alice", body: `{"jsonrpc":"2.0","id":1,"method":"echo","params":{"x":"` + strings.Repeat("a", 5<<20) + `"}}`}, wantStatus: 413, wantErrCode: codeInvalid},
		{name: "batch after 2025-03-26", req: req{session: "$", user: "alice", body: `[` + echo + `]`}, wantStatus: 400, wantErrCode: codeInvalid},

		// Session ([T §Session Management]).
		{name: "no session", req: req{user: "alice", body: echo}, wantStatus: 400, wantErrCode: codeInvalid},
		{name: "notification without session", req: req{user: "alice", body: `{"jsonrpc":"2.0","method":"notifications/initialized"}`}, wantStatus: 400},
		{name: "malformed JSON without session", req: req{user: "alice", body: `nope`}, wantStatus: 400, wantErrCode: codeParse},
		{name: "unknown session", req: req{session: "no-such-session", user: "alice", body: echo}, wantStatus: 404, wantErrCode: codeInvalid},
		{name: "invisible characters in session", req: req{session: "bad id", user: "alice", body: echo}, wantStatus: 404},
		{name: "another principal", req: req{session: "$", user: "mallory", body: echo}, wantStatus: 403, wantErrCode: codeInvalid},
		{name: "anonymous on alice's session", req: req{session: "$", body: echo}, wantStatus: 403},
		{name: "initialize in a session", req: req{session: "$", user: "alice", body: initBody(v)}, wantStatus: 400, wantErrCode: codeInvalid},
		{name: "initialize in a batch", req: req{user: "alice", body: `[` + initBody(mcp.Version20250326) + `]`}, wantStatus: 400, wantErrCode: codeInvalid},
		{name: "batch without session", req: req{user: "alice", body: `[` + echo + `]`}, wantStatus: 400},

		// Protocol version header ([T §Protocol Version Header]).
		// A version outside the session era takes the stateless path
		// (docs/protocol-eras.md §3), which answers 400 with the request's
		// id; TestStatelessRules checks its codes.
		{name: "unsupported version header", req: req{session: "$", user: "alice", version: "2024-01-01", body: echo}, wantStatus: 400},
		{name: "other supported version: tolerated", req: req{session: "$", user: "alice", version: mcp.Version20250326, body: echo}, wantStatus: 200},
		{name: "negotiated version governs: no batch", req: req{session: "$", user: "alice", version: mcp.Version20250326, body: `[` + echo + `]`}, wantStatus: 400},
		{name: "matching version", req: req{session: "$", user: "alice", version: v, body: echo}, wantStatus: 200},
		{name: "unsupported version on initialize", req: req{user: "alice", version: "1999-01-01", body: initBody(v)}, wantStatus: 400},

		// Methods.
		{name: "PUT", req: req{method: "PUT", session: "$", user: "alice", body: echo}, wantStatus: 405, wantErrCode: codeInvalid,
			wantHeader: map[string]string{"Allow": "GET, POST, DELETE"}},
		{name: "DELETE by another principal", req: req{method: "DELETE", session: "$", user: "mallory"}, wantStatus: 403},
		{name: "DELETE without session", req: req{method: "DELETE", user: "alice"}, wantStatus: 405},
		{name: "session still alive", req: req{session: "$", user: "alice", body: echo}, wantStatus: 200},
	})
}

func TestGETErrors(t *testing.T) {
	e := newEnv(t, nil)
	other := e.initialize(mcp.Version20251125, "alice")
	e.run([]step{
		{name: "initialize", req: req{body: initBody(mcp.Version20251125), user: "alice"}, wantStatus: 200, wantSession: true},
		{name: "Accept json only", req: req{method: "GET", session: "$", user: "alice", accept: "application/json"}, wantStatus: 406, wantErrCode: codeInvalid},
		{name: "no session", req: req{method: "GET", user: "alice"}, wantStatus: 405, wantErrCode: codeInvalid},
		{name: "unknown session", req: req{method: "GET", session: "nope", user: "alice"}, wantStatus: 404},
		{name: "another principal", req: req{method: "GET", session: "$", user: "bob"}, wantStatus: 403},
		{name: "bad version", req: req{method: "GET", session: "$", user: "alice", version: "x"}, wantStatus: 400},
		{name: "malformed Last-Event-ID", req: req{method: "GET", session: "$", user: "alice", lastEventID: "not an id"}, wantStatus: 400, wantErrCode: codeInvalid},
		{name: "unknown stream", req: req{method: "GET", session: "$", user: "alice", lastEventID: "AAAAAAAAAAAAAAAA.1"}, wantStatus: 400},
		{name: "beyond the stream", req: req{method: "GET", session: "$", user: "alice", lastEventID: "0.5"}, wantStatus: 400},
		{name: "session ID as event ID", req: req{method: "GET", session: "$", user: "alice", lastEventID: other}, wantStatus: 400},
	})
}

func TestInitializeRefused(t *testing.T) {
	t.Run("core error", func(t *testing.T) {
		e := newEnv(t, nil)
		e.Core.FailInit = jsonrpc.NewError(jsonrpc.CodeInvalidParams, "bad params")
		e.run([]step{{name: "initialize", req: req{body: initBody(mcp.Version20251125)}, wantStatus: 200, wantType: "json",
			wantMsgs: []string{`{"jsonrpc":"2.0","id":0,"error":{"code":-32602,"message":"bad params"}}`}}})
		if n, _ := e.Mgr.Count(t.Context()); n != 0 {
			t.Errorf("sessions after a failed initialize: %d", n)
		}
	})
	t.Run("session limit", func(t *testing.T) {
		e := newEnv(t, &envConfig{Session: session.Config{MaxSessions: 1}})
		first := e.initialize(mcp.Version20251125, "")
		e.run([]step{
			{name: "second initialize", req: req{body: initBody(mcp.Version20251125)}, wantStatus: 503, wantErrCode: jsonrpc.CodeInternalError,
				wantHeader: map[string]string{"Retry-After": "5"}},
			{name: "first session lives", req: req{session: first, body: `{"jsonrpc":"2.0","id":1,"method":"echo"}`}, wantStatus: 200},
		})
	})
}

// TestBatches: JSON-RPC batches only in 2025-03-26 sessions ([B0326 §Batching]).
func TestBatches(t *testing.T) {
	e := newEnv(t, nil)
	e.run([]step{
		{name: "initialize 2025-03-26", req: req{body: initBody(mcp.Version20250326)}, wantStatus: 200, wantSession: true},
		{name: "requests answered as a JSON array", req: req{session: "$",
			body: `[{"jsonrpc":"2.0","id":1,"method":"echo","params":{"a":1}},{"jsonrpc":"2.0","method":"notifications/x"},{"jsonrpc":"2.0","id":2,"method":"echo"}]`},
			wantStatus: 200, wantType: "json", wantMsgs: []string{
				`{"jsonrpc":"2.0","id":1,"result":{"echo":{"a":1}}}`,
				`{"jsonrpc":"2.0","id":2,"result":{"echo":null}}`,
			}},
		{name: "one request in a batch is still an array", req: req{session: "$", body: `[{"jsonrpc":"2.0","id":3,"method":"echo"}]`},
			wantStatus: 200, wantType: "json", wantMsgs: []string{`{"jsonrpc":"2.0","id":3,"result":{"echo":null}}`}},
		{name: "streaming batch on one SSE stream", req: req{session: "$",
			body: `[{"jsonrpc":"2.0","id":4,"method":"progress","params":{"n":1}},{"jsonrpc":"2.0","id":5,"method":"echo"}]`},
			wantStatus: 200, wantType: "sse", wantMsgs: []string{
				`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}`,
				`{"jsonrpc":"2.0","id":4,"result":{"done":1}}`,
				`{"jsonrpc":"2.0","id":5,"result":{"echo":null}}`,
			}},
		{name: "notifications and responses only", req: req{session: "$",
			body: `[{"jsonrpc":"2.0","method":"notifications/a"},{"jsonrpc":"2.0","id":"srv-1","result":{}}]`},
			wantStatus: 202, wantType: "empty"},
		{name: "empty batch", req: req{session: "$", body: `[]`}, wantStatus: 400, wantErrCode: codeInvalid},
		{name: "invalid member", req: req{session: "$", body: `[{"jsonrpc":"2.0","id":1,"method":"echo"},{"id":2}]`}, wantStatus: 400, wantErrCode: codeInvalid},
		{name: "initialize in a session batch", req: req{session: "$", body: `[` + initBody(mcp.Version20250326) + `]`}, wantStatus: 400},
		{name: "too many", req: req{session: "$", body: `[` + strings.TrimSuffix(strings.Repeat(`{"jsonrpc":"2.0","method":"n"},`, DefaultMaxBatch+1), ",") + `]`}, wantStatus: 400},
	})
	if got, want := e.Core.Notifications(), []string{"notifications/x", "notifications/a"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("notifications delivered to the core: got %v, want %v", got, want)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	e := newEnv(t, nil)
	for _, m := range []string{http.MethodPut, http.MethodPatch, http.MethodOptions, http.MethodHead} {
		res := e.do(req{method: m})
		if res.status != http.StatusMethodNotAllowed || res.header.Get("Allow") != "GET, POST, DELETE" {
			t.Errorf("%s: status %d, Allow %q", m, res.status, res.header.Get("Allow"))
		}
	}
}
